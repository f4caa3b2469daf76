/**
 * The vehicle signals (COVESA VSS names) a GNSS source feeds, by fix field: named once here for the
 * driver that feeds them (gnss-signals.ts) and the configuration that adds them to the signal table
 * (agent/config/sections/gnss.ts).
 */
export const GNSS_FIX_SIGNALS = {
  lat: 'Vehicle.CurrentLocation.Latitude',
  lon: 'Vehicle.CurrentLocation.Longitude',
  altM: 'Vehicle.CurrentLocation.Altitude',
  headingDeg: 'Vehicle.CurrentLocation.Heading',
  horizontalAccuracyM: 'Vehicle.CurrentLocation.HorizontalAccuracy',
  speedKmh: 'Vehicle.Speed',
} as const;

export type GnssFixField = keyof typeof GNSS_FIX_SIGNALS;
export const GNSS_SIGNAL_NAMES: readonly string[] = Object.values(GNSS_FIX_SIGNALS);
