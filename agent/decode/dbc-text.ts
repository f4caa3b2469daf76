/**
 * DBC files come in UTF-8 or, from Windows tools (CANdb++), in cp1252. Decode as UTF-8 when the bytes
 * are valid UTF-8, else as cp1252. The cp1252 table is here because Node builds without full ICU
 * decode 'windows-1252' as plain latin1 (0x96 would become U+0096 instead of an en dash).
 */

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** cp1252 characters for bytes 0x80..0x9F (0 = undefined in cp1252: kept as the C1 control, as WHATWG does). */
const CP1252_80_9F = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
  0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

export interface DecodedText {
  text: string;
  encoding: 'utf-8' | 'cp1252';
}

export function decodeCp1252(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return latin1.replace(/[\u0080-\u009f]/g, (c) => String.fromCharCode(CP1252_80_9F[c.charCodeAt(0) - 0x80] || c.charCodeAt(0)));
}

export function decodeDbcBytes(bytes: Uint8Array): DecodedText {
  try {
    return { text: utf8.decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: decodeCp1252(bytes), encoding: 'cp1252' };
  }
}
