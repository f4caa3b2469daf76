// The selected vehicle's last known status as a small table.
import { el, formatNumber, formatTime } from './format.js';

export function renderStatus(container, vehicle, status) {
  container.replaceChildren(el('h2', {}, `${vehicle.brand} ${vehicle.model} `, el('span', { class: 'vin' }, vehicle.vin)));
  if (!status) {
    container.append(el('p', { class: 'muted' }, 'No status received yet.'));
    return;
  }
  const rows = [
    ['Status at', formatTime(status.time)],
    ['Online', vehicle.online ? 'yes' : 'no'],
    ['Ignition', status.ignition || '—'],
    ['Speed', formatNumber(status.speedKmh, 'km/h')],
    [vehicle.fuelType === 'electric' ? 'Charge' : 'Fuel', vehicle.fuelType === 'electric' ? formatNumber(status.fuel.batterySocPct, '%') : formatNumber(status.fuel.levelPct, '%')],
    ['Range', formatNumber(status.autonomy.rangeKm, 'km')],
    ['Odometer', formatNumber(status.odometerKm, 'km', 1)],
    ['Doors', status.openDoors.length ? `open: ${status.openDoors.join(', ')}` : 'all closed'],
    ['Locked', status.locked ? 'yes' : 'no'],
  ];
  container.append(el('table', { class: 'status', 'data-testid': 'status' }, rows.map(([name, value]) => el('tr', {}, el('th', {}, name), el('td', {}, value)))));
}
