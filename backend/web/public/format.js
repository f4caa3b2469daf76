// Small helpers shared by the page's panels: DOM building (text only, never HTML from data) and formatting.

/** `el('li', { class: 'x', title: 't' }, 'text', child)`: an element with attributes and children. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  return node;
}

export function formatTime(rfc3339) {
  if (!rfc3339) return '—';
  const date = new Date(rfc3339);
  return date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatNumber(value, unit, digits = 0) {
  return typeof value === 'number' && Number.isFinite(value) ? `${value.toFixed(digits)} ${unit}` : '—';
}

/** GeoJSON [lon, lat] → Leaflet [lat, lon]. */
export const latLngOf = (coordinates) => [coordinates[1], coordinates[0]];
