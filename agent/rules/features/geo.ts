/**
 * Small-scale geodesy for geofences and movement detection: great-circle distance, and a local
 * flat projection (metres east/north of an origin) that is accurate to centimetres over a few
 * kilometres — the size of a geofence — and good to ~0.5% over a few hundred.
 */

export const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

/** Great-circle (haversine) distance in metres. */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Metres east of `originLon` at latitude `originLat`. */
export function eastM(originLat: number, originLon: number, lon: number): number {
  return (lon - originLon) * RAD * EARTH_RADIUS_M * Math.cos(originLat * RAD);
}

/** Metres north of `originLat`. */
export function northM(originLat: number, lat: number): number {
  return (lat - originLat) * RAD * EARTH_RADIUS_M;
}

/** The point `east`/`north` metres from the origin (inverse of eastM/northM). */
export function offsetLatLon(originLat: number, originLon: number, east: number, north: number): { lat: number; lon: number } {
  return {
    lat: originLat + north / EARTH_RADIUS_M / RAD,
    lon: originLon + east / (EARTH_RADIUS_M * Math.cos(originLat * RAD)) / RAD,
  };
}

/** Initial bearing from point 1 to point 2, degrees clockwise from north (0..360). */
export function bearingDeg(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const y = Math.sin((lon2 - lon1) * RAD) * Math.cos(lat2 * RAD);
  const x = Math.cos(lat1 * RAD) * Math.sin(lat2 * RAD) - Math.sin(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.cos((lon2 - lon1) * RAD);
  return (Math.atan2(y, x) / RAD + 360) % 360;
}

/**
 * Signed distance from a point to a polygon's border in metres: positive inside, negative outside.
 * `ring` is a flat array [lon0, lat0, lon1, lat1, ...] (GeoJSON order), closed implicitly.
 * Computed in a flat projection centred on the point, so it is exact near the border, where it matters.
 */
export function polygonSignedDistanceM(ring: Float64Array, lat: number, lon: number): number {
  const n = ring.length / 2;
  let inside = false;
  let best = Infinity;
  let px = eastM(lat, lon, ring[2 * n - 2]);
  let py = northM(lat, ring[2 * n - 1]);
  for (let i = 0; i < n; i++) {
    const x = eastM(lat, lon, ring[2 * i]);
    const y = northM(lat, ring[2 * i + 1]);
    // Ray casting from the origin (the point) along +x.
    if (y > 0 !== py > 0 && 0 < px + ((0 - py) * (x - px)) / (y - py)) inside = !inside;
    const d = segmentDistance(px, py, x, y);
    if (d < best) best = d;
    px = x;
    py = y;
  }
  return inside ? best : -best;
}

/** Distance from the origin to segment (ax,ay)-(bx,by). */
function segmentDistance(ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2));
  return Math.hypot(ax + t * dx, ay + t * dy);
}
