// The API key the page sends as `Authorization: Bearer <key>`: taken from the URL fragment
// (#key=rlk_...; the fragment is never sent to a server and is removed from the address bar at once)
// or typed into the page, and kept in sessionStorage (this tab only, gone when it closes).
const STORAGE_NAME = 'roadlink.apiKey';

/** Moves a `#key=...` fragment into sessionStorage; returns the key to use, or null. */
export function loadApiKey() {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromUrl = fragment.get('key');
  if (fromUrl) {
    sessionStorage.setItem(STORAGE_NAME, fromUrl.trim());
    fragment.delete('key');
    const rest = fragment.toString();
    history.replaceState(null, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  }
  return sessionStorage.getItem(STORAGE_NAME);
}

export function saveApiKey(key) {
  sessionStorage.setItem(STORAGE_NAME, key.trim());
}

export function forgetApiKey() {
  sessionStorage.removeItem(STORAGE_NAME);
}
