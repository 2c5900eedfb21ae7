/**
 * `<data dir>/logs/cws.log`, bounded in size: when it reaches `maxBytes` it becomes cws.1.log (the
 * older ones move up to cws.2.log, …) and a new cws.log begins; past `maxFiles` rotated files the
 * oldest is deleted. The files are 0600 in a 0700 dir (they may name members and upstreams).
 *
 * Not pino-roll: it numbers the live file itself (cws.1.log, cws.2.log, … with a symlink), which
 * would move the path the README documents and tools tail.
 */
import type { DestinationStream } from 'pino'
import { existsSync, renameSync, statSync, unlinkSync } from 'node:fs'
import path from 'node:path'
import process from 'node:process'
import pino from 'pino'
import { ensurePrivateDir, ensurePrivateFile, PRIVATE_FILE_MODE } from './private-files.js'

export interface LogFileOptions { maxBytes: number, maxFiles: number }

/** `cws.log` → `cws.<n>.log`. */
export function rotatedName(file: string, n: number): string {
  const ext = path.extname(file)
  return `${file.slice(0, file.length - ext.length)}.${n}${ext}`
}

export function rotatingLogFile(file: string, opts: LogFileOptions): DestinationStream {
  ensurePrivateDir(path.dirname(file))
  ensurePrivateFile(file, { create: true })
  const dest = pino.destination({ dest: file, sync: false, mode: PRIVATE_FILE_MODE })
  let size = statSync(file).size
  let rotating = false

  const rotate = (): void => {
    try {
      const oldest = rotatedName(file, opts.maxFiles)
      if (existsSync(oldest))
        unlinkSync(oldest)
      for (let n = opts.maxFiles - 1; n >= 1; n--) {
        if (existsSync(rotatedName(file, n)))
          renameSync(rotatedName(file, n), rotatedName(file, n + 1))
      }
      renameSync(file, rotatedName(file, 1))
      // Anything still being written lands in cws.1.log; what follows goes to a fresh cws.log.
      dest.reopen()
    }
    catch (err) {
      process.stderr.write(`log rotation failed: ${(err as Error).message}\n`)
    }
    finally {
      rotating = false
    }
  }

  dest.on('write', (bytes: number) => {
    size += bytes
    if (size >= opts.maxBytes && !rotating) {
      rotating = true
      size = 0
      rotate()
    }
  })
  return dest
}
