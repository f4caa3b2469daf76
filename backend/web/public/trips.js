// The selected vehicle's trips: a list (newest first); the chosen one's track (GET its `track` link,
// a GeoJSON FeatureCollection) drawn as a line with its departure and arrival, and the map fitted to it.
import * as L from './vendor/leaflet/leaflet-src.esm.js';
import { MapPanel } from './map-panel.js';
import { el, formatNumber, formatTime } from './format.js';

export class TripsPanel extends MapPanel {
  async load(vehicle) {
    this.layer.clearLayers();
    const page = await this.api.get(`${vehicle._links.trips.href}?limit=20`);
    const trips = page._embedded.trips;
    this.container.replaceChildren(el('h3', {}, 'Trips'));
    if (trips.length === 0) {
      this.container.append(el('p', { class: 'muted' }, 'No trips yet.'));
      return;
    }
    const list = el('ol', { class: 'trips' });
    for (const trip of trips) {
      list.append(el('li', { 'data-trip': trip.id, onclick: () => this.show(trip, list) },
        el('strong', {}, formatTime(trip.departure.time)), ' ',
        `${formatNumber(trip.distanceKm, 'km', 1)} · ${formatNumber(trip.durationS / 60, 'min')} · max ${formatNumber(trip.maxSpeedKmh, 'km/h')}`));
    }
    this.container.append(list);
    await this.show(trips[0], list);
  }

  async show(trip, list) {
    for (const item of list.children) item.classList.toggle('selected', item.dataset.trip === trip.id);
    this.layer.clearLayers();
    const track = await this.api.get(trip._links.track.href + (trip._links.track.href.includes('?') ? '&' : '?') + 'limit=10000');
    const line = L.geoJSON(track, {
      style: { className: 'trip-line', color: '#1565c0', weight: 4, opacity: 0.85 },
      pointToLayer: (_feature, latlng) => L.circleMarker(latlng, { radius: 4, className: 'trip-point' }),
    }).addTo(this.layer);
    for (const [end, position] of [['departure', trip.departure.position], ['arrival', trip.arrival.position]]) {
      if (!position) continue;
      L.circleMarker([position.coordinates[1], position.coordinates[0]], { radius: 6, className: `trip-${end}`, color: '#fff', weight: 2, fillOpacity: 1, fillColor: end === 'departure' ? '#2e7d32' : '#c62828' })
        .bindTooltip(`${end} ${formatTime(trip[end].time)}`)
        .addTo(this.layer);
    }
    const bounds = line.getBounds();
    if (bounds.isValid()) this.map.fitBounds(bounds.pad(0.15), { maxZoom: 16 });
  }
}
