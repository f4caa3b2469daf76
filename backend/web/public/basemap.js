// The offline basemap: Natural Earth countries (1:50m, public domain, from the world-atlas package,
// served by the backend) on a sea-coloured background, and a graticule whose spacing follows the
// zoom (so that a city-scale view still shows distances). No tile server.
import * as L from './vendor/leaflet/leaflet-src.esm.js';
import { feature, mesh } from './vendor/topojson-client/index.js';

const GRATICULE_STEPS_DEG = [30, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005];

export async function addBasemap(map) {
  const renderer = L.canvas({ padding: 0.5 });
  const response = await fetch('./basemap/countries-50m.json');
  if (!response.ok) throw new Error(`basemap: HTTP ${response.status}`);
  const topology = await response.json();
  L.geoJSON(feature(topology, topology.objects.land), {
    renderer, interactive: false, style: { stroke: false, fillColor: '#f3efe6', fillOpacity: 1 },
  }).addTo(map);
  L.geoJSON(mesh(topology, topology.objects.countries, (a, b) => a !== b), {
    renderer, interactive: false, style: { color: '#b9a98f', weight: 1, dashArray: '4 3' },
  }).addTo(map);
  addGraticule(map, renderer);
}

function addGraticule(map, renderer) {
  const layer = L.layerGroup().addTo(map);
  const draw = () => {
    layer.clearLayers();
    const bounds = map.getBounds();
    const span = Math.max(bounds.getEast() - bounds.getWest(), bounds.getNorth() - bounds.getSouth());
    const step = GRATICULE_STEPS_DEG.find((s) => span / s >= 4) ?? GRATICULE_STEPS_DEG.at(-1);
    const style = { renderer, interactive: false, color: '#9fb7c9', weight: 0.6, opacity: 0.7 };
    const south = Math.max(-85, bounds.getSouth()), north = Math.min(85, bounds.getNorth());
    for (let lon = Math.floor(bounds.getWest() / step) * step; lon <= bounds.getEast(); lon += step) {
      layer.addLayer(L.polyline([[south, lon], [north, lon]], style));
    }
    for (let lat = Math.floor(south / step) * step; lat <= north; lat += step) {
      layer.addLayer(L.polyline([[lat, bounds.getWest()], [lat, bounds.getEast()]], style));
    }
  };
  map.on('moveend zoomend', draw);
  draw();
}
