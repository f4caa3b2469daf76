// The selected vehicle's alerts, collisions and maintenance notices in one timeline, newest first;
// collisions (and any event with a position) are also marked on the map.
import * as L from './vendor/leaflet/leaflet-src.esm.js';
import { MapPanel } from './map-panel.js';
import { el, formatTime, latLngOf } from './format.js';

const SOURCES = ['alerts', 'collisions', 'maintenance'];

export class TimelinePanel extends MapPanel {
  async load(vehicle) {
    this.layer.clearLayers();
    const pages = await Promise.all(SOURCES.map((rel) => this.api.get(`${vehicle._links[rel].href}?limit=50`)));
    const events = pages.flatMap((page) => page._embedded.events).sort((a, b) => b.time.localeCompare(a.time));
    this.container.replaceChildren(el('h3', {}, 'Timeline'));
    if (events.length === 0) {
      this.container.append(el('p', { class: 'muted' }, 'No alerts, collisions or maintenance notices.'));
      return;
    }
    const list = el('ol', { class: 'timeline', 'data-testid': 'timeline' });
    for (const event of events) {
      const item = el('li', { class: `event ${event.kind} priority-${event.priority.toLowerCase()}`, 'data-event': event.id },
        el('time', { datetime: event.time }, formatTime(event.time)), ' ',
        el('span', { class: 'kind' }, event.kind), ' ', describe(event));
      if (event.position) {
        const marker = L.circleMarker(latLngOf(event.position.coordinates), { radius: event.kind === 'collision' ? 9 : 6, className: `event-marker ${event.kind}-marker` })
          .bindTooltip(`${event.kind} ${formatTime(event.time)}: ${describe(event)}`)
          .addTo(this.layer);
        item.addEventListener('click', () => {
          this.map.panTo(marker.getLatLng());
          marker.openTooltip();
        });
      }
      list.append(item);
    }
    this.container.append(list);
  }
}

/** One line on what happened, from the kind's detail fields. */
export function describe(event) {
  const d = event.detail ?? {};
  switch (event.kind) {
    case 'collision':
      return [d.peakAccelG !== undefined && `peak ${Number(d.peakAccelG).toFixed(1)} g`, d.speedKmh !== undefined && `at ${Math.round(d.speedKmh)} km/h`, d.trigger].filter(Boolean).join(', ');
    case 'alert':
      return `${d.code || 'alert'} ${d.active === false ? 'cleared' : 'raised'}${d.severity ? ` (${d.severity})` : ''}${d.message ? `: ${d.message}` : ''}`;
    case 'maintenance':
      return [d.daysToService !== undefined && `service in ${d.daysToService} days`, d.distanceToServiceKm !== undefined && `or ${d.distanceToServiceKm} km`].filter(Boolean).join(' ');
    default:
      return '';
  }
}
