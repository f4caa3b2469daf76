// What the selected vehicle's panels share: the map, the API, their place in the sidebar and a
// layer of their own on the map (cleared when they reload).
import * as L from './vendor/leaflet/leaflet-src.esm.js';

export class MapPanel {
  constructor(map, api, container) {
    this.map = map;
    this.api = api;
    this.container = container;
    this.layer = L.layerGroup().addTo(map);
  }
}
