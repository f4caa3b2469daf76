/**
 * DBC files come in UTF-8 or, from Windows tools (CANdb++), in cp1252. Decode as UTF-8 when the bytes
 * are valid UTF-8, else as cp1252 (whose printable range is a superset of latin1).
 */

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const cp1252 = new TextDecoder('windows-1252');

export interface DecodedText {
  text: string;
  encoding: 'utf-8' | 'cp1252';
}

export function decodeDbcBytes(bytes: Uint8Array): DecodedText {
  try {
    return { text: utf8.decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: cp1252.decode(bytes), encoding: 'cp1252' };
  }
}
