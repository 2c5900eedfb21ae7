import type { DestinationStream, LoggerOptions } from 'pino'
import { createRequire } from 'node:module'
import path from 'node:path'
import process from 'node:process'
import pino from 'pino'
import { rotatingLogFile } from './log-file.js'
import { ensurePrivateDir } from './private-files.js'

/** Paths whose values never reach a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["chatgpt-account-id"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.passwordHash',
  '*.access_token',
  '*.accessToken',
  '*.api_key',
  '*.apiKey',
  '*.jwt_secret',
  '*.token',
  'config.upstreams[*].access_token',
  'config.upstreams[*].api_key',
]

/** A bounded in-memory copy of recent log lines, for the admin's live log view. */
export class LogRing implements DestinationStream {
  private lines: string[] = []
  private listeners = new Set<(line: string) => void>()
  constructor(private readonly size = 2000) {}
  write(line: string): void {
    this.lines.push(line)
    if (this.lines.length > this.size)
      this.lines.splice(0, this.lines.length - this.size)
    for (const l of this.listeners) l(line)
  }

  recent(n = 200): string[] {
    return this.lines.slice(-n)
  }

  subscribe(fn: (line: string) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }
}

export interface LoggerSetup {
  level: string
  dataDir: string
  file: boolean
  /** cws.log is rotated at this size, keeping this many older files (log-file.ts); 20 MB × 5 by default. */
  maxFileBytes?: number
  maxFiles?: number
  pretty?: boolean
  ring: LogRing
  destination?: DestinationStream
}

/** JSON logs to stdout (pretty on a TTY), to `<dataDir>/logs/cws.log` (size-bounded, 0600), and to the ring. */
export function createLogger(s: LoggerSetup): pino.Logger {
  const opts: LoggerOptions = {
    level: s.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  }
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: s.ring }]
  if (s.destination) {
    streams.push({ level: 'trace', stream: s.destination })
  }
  else if (s.pretty ?? process.stdout.isTTY) {
    // pino-pretty as a synchronous stream keeps start-up messages in order; loaded only on a TTY.
    const pretty = createRequire(import.meta.url)('pino-pretty') as (o: object) => DestinationStream
    streams.push({ level: 'trace', stream: pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }) })
  }
  else {
    streams.push({ level: 'trace', stream: pino.destination({ fd: 1, sync: false }) })
  }
  if (s.file) {
    ensurePrivateDir(s.dataDir)
    const file = path.join(s.dataDir, 'logs', 'cws.log')
    streams.push({ level: 'trace', stream: rotatingLogFile(file, { maxBytes: s.maxFileBytes ?? 20 * 1024 * 1024, maxFiles: s.maxFiles ?? 5 }) })
  }
  return pino(opts, pino.multistream(streams))
}
