/**
 * Picks the SocketCAN driver's channel backend (can-channel.ts): the native reader or the socketcan
 * addon, loading its addon once.
 */
import { loadSocketcanAddon, openAddonChannel, type SocketcanAddon } from './addon-channel.js';
import type { CanChannel, ChannelHost, SocketCanBackend } from './can-channel.js';
import { loadNativeCanAddon, type NativeCanAddon } from './native-can-socket.js';
import { openNativeChannel } from './native-channel.js';

export interface ChannelBackend {
  readonly name: SocketCanBackend;
  /** Why `auto` fell back to the socketcan addon (the native reader's load error). */
  readonly fallbackReason?: string;
  /** Opens a channel on host.iface; throws when the interface cannot be opened. */
  open(host: ChannelHost): CanChannel;
}

/** How each backend's addon is loaded (replaceable to see what `auto` does when one does not load). */
export interface BackendLoaders {
  native: () => NativeCanAddon;
  addon: () => SocketcanAddon;
}

const LOADERS: BackendLoaders = { native: loadNativeCanAddon, addon: loadSocketcanAddon };

/**
 * Loads a backend: `native` or `addon` as asked (throwing when it does not load), or with `auto`
 * the native reader when it loads, else the socketcan addon.
 */
export function pickBackend(choice: SocketCanBackend | 'auto', loaders: BackendLoaders = LOADERS): ChannelBackend {
  const native = (): ChannelBackend => {
    const lib = loaders.native();
    return { name: 'native', open: (host) => openNativeChannel(lib, host) };
  };
  const addon = (): ChannelBackend => {
    const lib = loaders.addon();
    return { name: 'addon', open: (host) => openAddonChannel(lib, host) };
  };
  if (choice === 'addon') return addon();
  if (choice === 'native') return native();
  try {
    return native();
  } catch (nativeError) {
    const fallbackReason = (nativeError as Error).message;
    try {
      return { ...addon(), fallbackReason };
    } catch (addonError) {
      throw new Error(`socketcan: no backend loads: ${fallbackReason}; ${(addonError as Error).message}`);
    }
  }
}
