/** Errors the store reports when its file cannot be used. */

/** Why a store file could not be opened. `corrupt` files may be moved aside by openOrRecover. */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly corrupt: boolean,
    options?: { cause?: unknown },
  ) {
    super(`cannot open store ${path}: ${reason}${corrupt ? ' (the file is corrupt)' : ''}`, options);
  }
}

/** SQLite result codes that mean the file's content is damaged (not a permission or lock problem). */
export function isCorruptionCode(code: unknown): boolean {
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}
