// Geofence monitors of the selected vehicle: drawn as areas (circles or polygons, coloured by state)
// and listed. "Draw a monitor" takes a circle drawn on the map and a callback URL, POSTs /monitors,
// then follows the new monitor from pending to active (or failed) as the vehicle acknowledges it.
import * as L from './vendor/leaflet/leaflet-src.esm.js';
import { CircleDrawing } from './circle-drawing.js';
import { MapPanel } from './map-panel.js';
import { el, formatNumber, latLngOf } from './format.js';

const CALLBACK_STORAGE_NAME = 'roadlink.monitorCallbackUrl';
const POLL_MS = 1000;
const POLL_LIMIT = 120;

export class MonitorsPanel extends MapPanel {
  constructor(map, api, container) {
    super(map, api, container);
    this.monitors = new Map();
    this.drawing = new CircleDrawing(map, (circle) => circle && this.askCallback(circle));
  }

  async load(vehicle) {
    this.vehicle = vehicle;
    if (this.drawing.active) this.drawing.finish(null);
    const monitors = await this.api.all(`/monitors?vin=${encodeURIComponent(vehicle.vin)}&limit=100`, 'monitors');
    this.monitors = new Map(monitors.map((m) => [m.id, m]));
    this.form = el('div', { class: 'monitor-form' });
    this.list = el('ul', { class: 'monitors', 'data-testid': 'monitors' });
    this.container.replaceChildren(el('h3', {}, 'Monitors'),
      el('button', { type: 'button', 'data-testid': 'draw-monitor', onclick: () => this.startDrawing() }, 'Draw a monitor'),
      this.form, this.list);
    this.render();
  }

  startDrawing() {
    this.form.replaceChildren(el('p', { class: 'hint' }, 'Click the centre on the map, then click again at the radius (Esc cancels).'));
    this.drawing.start();
  }

  askCallback({ center, radiusM }) {
    const preview = L.circle(center, { radius: radiusM, className: 'monitor-draft', color: '#6a1b9a', dashArray: '6 4' }).addTo(this.layer);
    const input = el('input', { type: 'url', name: 'callbackUrl', required: true, placeholder: 'https://example.org/hook', value: sessionStorage.getItem(CALLBACK_STORAGE_NAME) ?? '' });
    const error = el('p', { class: 'error' });
    const close = () => {
      preview.remove();
      this.form.replaceChildren();
    };
    const form = el('form', {
      onsubmit: async (event) => {
        event.preventDefault();
        sessionStorage.setItem(CALLBACK_STORAGE_NAME, input.value);
        try {
          const created = await this.api.post('/monitors', { vin: this.vehicle.vin, geometry: { type: 'Point', coordinates: [center.lng, center.lat] }, radiusM, callbackUrl: input.value });
          close();
          this.monitors.set(created.id, created);
          this.render();
          this.follow(created);
        } catch (e) {
          error.textContent = e.message;
        }
      },
    },
    el('p', {}, `Circle of ${formatNumber(radiusM, 'm')} around ${center.lat.toFixed(5)}, ${center.lng.toFixed(5)}`),
    el('label', {}, 'Callback URL (receives each transition) ', input),
    el('button', { type: 'submit' }, 'Create monitor'), ' ',
    el('button', { type: 'button', onclick: close }, 'Cancel'), error);
    this.form.replaceChildren(form);
    input.focus();
  }

  /** Polls a pending monitor until the vehicle accepted or refused it. */
  async follow(monitor) {
    for (let i = 0; i < POLL_LIMIT && monitor.state === 'pending'; i++) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (!this.monitors.has(monitor.id)) return;
      monitor = await this.api.get(monitor._links.self.href).catch(() => monitor);
      this.monitors.set(monitor.id, monitor);
      this.render();
    }
  }

  async remove(monitor) {
    try {
      await this.api.delete(monitor._links.self.href);
      this.monitors.delete(monitor.id);
      this.render();
    } catch (e) {
      this.form.replaceChildren(el('p', { class: 'error' }, `delete ${monitor.id}: ${e.message}`));
    }
  }

  render() {
    this.layer.clearLayers();
    this.list.replaceChildren();
    if (this.monitors.size === 0) this.list.append(el('li', { class: 'muted' }, 'No monitors.'));
    for (const monitor of this.monitors.values()) {
      const style = { className: `monitor-area state-${monitor.state}`, color: monitor.state === 'failed' ? '#c62828' : '#6a1b9a', weight: 2, fillOpacity: 0.12 };
      const area = monitor.geometry.type === 'Point'
        ? L.circle(latLngOf(monitor.geometry.coordinates), { ...style, radius: monitor.radiusM })
        : L.polygon(monitor.geometry.coordinates[0].map(latLngOf), style);
      area.bindTooltip(`monitor ${monitor.id} (${monitor.state})`).addTo(this.layer);
      const shape = monitor.geometry.type === 'Point' ? `circle ${formatNumber(monitor.radiusM, 'm')}` : 'polygon';
      this.list.append(el('li', { 'data-monitor': monitor.id, class: `state-${monitor.state}` },
        el('strong', {}, shape), ' ', el('span', { class: 'state' }, monitor.state), monitor.error ? ` · ${monitor.error}` : '', ' ',
        el('button', { type: 'button', class: 'link', onclick: () => this.map.fitBounds(area.getBounds().pad(0.2)) }, 'show'), ' ',
        el('button', { type: 'button', class: 'link', onclick: () => this.remove(monitor) }, 'delete')));
    }
  }
}
