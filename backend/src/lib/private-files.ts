/**
 * The data dir holds credentials (cws.db: the dashboard's upstreams, refreshed tokens; the JWT
 * secret; the logs): the dir is made 0700 and its files 0600, whatever the umask, also when an older
 * version left them world-readable.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs'

export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/** Creates `dir` (and missing parents) 0700, or makes an existing one 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
  restrict(dir, PRIVATE_DIR_MODE)
}

/**
 * Makes `file` 0600, creating it empty first when `create` (SQLite gives its -wal and -shm files the
 * mode of the database file, so creating that one 0600 is enough for them).
 */
export function ensurePrivateFile(file: string, opts: { create?: boolean } = {}): void {
  if (!existsSync(file)) {
    if (!opts.create)
      return
    closeSync(openSync(file, 'a', PRIVATE_FILE_MODE))
  }
  restrict(file, PRIVATE_FILE_MODE)
}

function restrict(p: string, mode: number): void {
  try {
    chmodSync(p, mode)
  }
  catch (err) {
    // A dir we may use but do not own (a mounted volume): its owner decides.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM')
      throw err
  }
}
