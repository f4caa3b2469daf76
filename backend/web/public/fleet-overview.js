// The fleet: every vehicle the key sees, a marker at its last position (coloured by ignition, open
// doors flagged) and a row in the list; clicking either selects the vehicle.
import * as L from './vendor/leaflet/leaflet-src.esm.js';
import { el, formatNumber, latLngOf } from './format.js';

export class FleetOverview {
  constructor(map, api, list, onSelect) {
    this.map = map;
    this.api = api;
    this.list = list;
    this.onSelect = onSelect;
    this.layer = L.layerGroup().addTo(map);
    /** vin → { vehicle, status } */
    this.entries = new Map();
    this.selectedVin = null;
  }

  async load() {
    const vehicles = await this.api.all('/vehicles?limit=100', 'vehicles');
    const statuses = await Promise.all(vehicles.map((v) => this.api.get(v._links.status.href).catch(() => null)));
    this.entries = new Map(vehicles.map((vehicle, i) => [vehicle.vin, { vehicle, status: statuses[i] }]));
    this.render();
    return [...this.entries.values()];
  }

  select(vin) {
    this.selectedVin = vin;
    this.render();
    const entry = this.entries.get(vin);
    if (entry) this.onSelect(entry.vehicle, entry.status);
  }

  render() {
    this.layer.clearLayers();
    this.list.replaceChildren();
    for (const { vehicle, status } of this.entries.values()) {
      const selected = vehicle.vin === this.selectedVin;
      const position = status?.position?.geometry?.coordinates;
      if (position) {
        const icon = L.divIcon({
          className: `vehicle-marker ignition-${(status.ignition || 'unknown').toLowerCase()}${status.openDoors.length ? ' doors-open' : ''}${selected ? ' selected' : ''}`,
          html: '<span></span>', iconSize: [22, 22], iconAnchor: [11, 11],
        });
        L.marker(latLngOf(position), { icon, title: vehicle.vin, riseOnHover: true, zIndexOffset: selected ? 1000 : 0 })
          .bindTooltip(summaryOf(vehicle, status), { direction: 'top', offset: [0, -10] })
          .on('click', () => this.select(vehicle.vin))
          .addTo(this.layer);
      }
      this.list.append(el('li', { class: selected ? 'selected' : undefined, 'data-vin': vehicle.vin, onclick: () => this.select(vehicle.vin) },
        el('strong', {}, `${vehicle.brand} ${vehicle.model}`), ' ', el('span', { class: 'vin' }, vehicle.vin),
        el('div', { class: 'muted' }, status ? summaryOf(vehicle, status) : 'no status yet', position ? '' : ' · no position')));
    }
  }
}

/** Ignition · fuel or charge · doors, on one line. */
export function summaryOf(vehicle, status) {
  if (!status) return `${vehicle.vin}: no status yet`;
  const energy = vehicle.fuelType === 'electric' ? `charge ${formatNumber(status.fuel.batterySocPct, '%')}` : `fuel ${formatNumber(status.fuel.levelPct, '%')}`;
  const doors = status.openDoors.length ? `open: ${status.openDoors.join(', ')}` : status.locked ? 'locked' : 'doors closed';
  return `ignition ${status.ignition || '?'} · ${energy} · ${doors}`;
}
