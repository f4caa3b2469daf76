// The fleet page: asks for the API key (or takes #key=... from the URL), then shows the fleet on an
// offline map and the selected vehicle's status, remote actions, trips, timeline and monitors.
import * as L from './vendor/leaflet/leaflet-src.esm.js';
import { forgetApiKey, loadApiKey, saveApiKey } from './api-key.js';
import { addBasemap } from './basemap.js';
import { FleetApi } from './fleet-api.js';
import { FleetOverview } from './fleet-overview.js';
import { MonitorsPanel } from './monitors.js';
import { RemoteActionsPanel } from './remote-actions.js';
import { renderStatus } from './status-card.js';
import { TimelinePanel } from './timeline.js';
import { TripsPanel } from './trips.js';

const REFRESH_MS = 15_000;
const $ = (id) => document.getElementById(id);

function showMessage(text) {
  $('message').textContent = text;
  $('message').hidden = !text;
}

function askForKey(reason) {
  $('key-reason').textContent = reason;
  $('key-dialog').hidden = false;
  $('key-input').focus();
}

function reportError(error) {
  if (error?.status === 401) {
    forgetApiKey();
    askForKey(`The API refused the key: ${error.message}`);
  } else {
    showMessage(`Error: ${error?.message ?? error}`);
    console.error(error);
  }
}

function start(key) {
  $('key-dialog').hidden = true;
  const api = new FleetApi(key);
  const map = L.map('map', { worldCopyJump: true, preferCanvas: false }).setView([48.8, 2.3], 5);
  map.attributionControl.addAttribution('Basemap: Natural Earth (public domain)');
  L.control.scale({ imperial: false }).addTo(map);
  addBasemap(map).catch(reportError);

  const trips = new TripsPanel(map, api, $('trips'));
  const timeline = new TimelinePanel(map, api, $('timeline'));
  const monitors = new MonitorsPanel(map, api, $('monitors'));
  const actions = new RemoteActionsPanel(api, $('actions'));
  let selectedVin = null;
  const overview = new FleetOverview(map, api, $('vehicles'), (vehicle, status) => {
    const first = selectedVin !== vehicle.vin;
    selectedVin = vehicle.vin;
    renderStatus($('status'), vehicle, status);
    if (!first) return;
    $('details').hidden = false;
    showMessage('');
    Promise.all([actions.load(vehicle), trips.load(vehicle), timeline.load(vehicle), monitors.load(vehicle)]).catch(reportError);
  });

  const refresh = async () => {
    const entries = await overview.load();
    if (entries.length === 0) showMessage('No vehicles visible to this key yet.');
    const keep = entries.find((e) => e.vehicle.vin === selectedVin) ?? entries.find((e) => e.status?.position) ?? entries[0];
    if (keep) overview.select(keep.vehicle.vin);
  };
  refresh().catch(reportError);
  setInterval(() => refresh().catch(reportError), REFRESH_MS);
  $('refresh').addEventListener('click', () => refresh().catch(reportError));
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('key-input').value.trim();
  if (!key) return;
  saveApiKey(key);
  location.reload();
});
$('forget-key').addEventListener('click', () => {
  forgetApiKey();
  location.reload();
});

const key = loadApiKey();
if (key) start(key);
else askForKey('Enter an API key with the read scope (and remote, for actions and monitors).');
