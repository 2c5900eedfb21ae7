import type { LogLevelName, LogLine } from '../../contracts/logs.js'
import { LOG_LEVELS } from '../../contracts/logs.js'

const LEVEL_BY_NUMBER: Record<number, LogLevelName> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }

/** Field names never sent to a browser, whatever pino's redaction caught. */
const SECRET_NAME = /password|token|key|secret|authorization|cookie/i

/** A copy without any field (at any depth) whose name looks like a credential. */
export function stripSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object')
    return value
  if (Array.isArray(value))
    return value.map(v => stripSecrets(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    if (!SECRET_NAME.test(k))
      out[k] = stripSecrets(v, depth + 1)
  }
  return out
}

/** `levelNumber >= min`, by name. */
export function atLeast(level: LogLevelName, min: LogLevelName | undefined): boolean {
  return !min || LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(min)
}

/** One pino JSON line → a LogLine (secrets stripped), or null when it is not a JSON object. */
export function parseLogLine(raw: string): LogLine | null {
  let obj: unknown
  try {
    obj = JSON.parse(raw)
  }
  catch {
    return null
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj))
    return null
  const { time, level, msg, reqId, ...rest } = stripSecrets(obj) as Record<string, unknown>
  const levelName = typeof level === 'number' ? LEVEL_BY_NUMBER[level] ?? (level >= 60 ? 'fatal' : 'info') : (LOG_LEVELS as readonly unknown[]).includes(level) ? level as LogLevelName : 'info'
  delete rest.pid
  delete rest.hostname
  const line: LogLine = {
    ...rest,
    time: typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) || Date.now() : Date.now(),
    level: levelName,
    msg: typeof msg === 'string' ? msg : msg === undefined ? '' : String(msg),
  }
  if (typeof reqId === 'string')
    line.reqId = reqId
  return line
}
