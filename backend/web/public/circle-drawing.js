// Drawing a circle on the map: a first click sets the centre, the pointer then sets the radius
// (shown as a dashed draft), a second click fixes it. Escape cancels.
import * as L from './vendor/leaflet/leaflet-src.esm.js';

export class CircleDrawing {
  /** `onDone({ center: L.LatLng, radiusM })`, or `onDone(null)` when cancelled. */
  constructor(map, onDone) {
    this.map = map;
    this.onDone = onDone;
    this.draft = null;
    this.active = false;
    this.onClick = (e) => this.click(e.latlng);
    this.onMove = (e) => this.draft?.setRadius(this.map.distance(this.draft.getLatLng(), e.latlng));
    this.onKey = (e) => e.key === 'Escape' && this.finish(null);
  }

  start() {
    if (this.active) return;
    this.active = true;
    this.map.getContainer().classList.add('drawing');
    this.map.doubleClickZoom.disable();
    this.map.on('click', this.onClick).on('mousemove', this.onMove);
    document.addEventListener('keydown', this.onKey);
  }

  click(latlng) {
    if (!this.draft) {
      this.draft = L.circle(latlng, { radius: 1, className: 'monitor-draft', dashArray: '6 4', color: '#6a1b9a' }).addTo(this.map);
      return;
    }
    const radiusM = Math.max(1, Math.round(this.map.distance(this.draft.getLatLng(), latlng)));
    this.finish({ center: this.draft.getLatLng(), radiusM });
  }

  finish(result) {
    this.active = false;
    this.draft?.remove();
    this.draft = null;
    this.map.getContainer().classList.remove('drawing');
    this.map.doubleClickZoom.enable();
    this.map.off('click', this.onClick).off('mousemove', this.onMove);
    document.removeEventListener('keydown', this.onKey);
    this.onDone(result);
  }
}
