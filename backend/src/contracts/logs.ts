import type { Static } from '@sinclair/typebox'
import { Type as T } from '@sinclair/typebox'

/** pino's level names, lowest first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const
export type LogLevelName = (typeof LOG_LEVELS)[number]

export const LogLevel = T.Union(LOG_LEVELS.map(l => T.Literal(l)))

/**
 * One server log line as pino wrote it, with `level` as a name. Other fields (req, res, err, …) pass
 * through, except any whose name looks like a credential.
 */
export const LogLine = T.Object({
  time: T.Number({ description: 'ms since the epoch' }),
  level: LogLevel,
  msg: T.String(),
  reqId: T.Optional(T.String()),
}, { additionalProperties: true })
export type LogLine = Static<typeof LogLine>

export const RecentLogsQuery = T.Object({
  limit: T.Optional(T.Integer({ minimum: 1, maximum: 1000, default: 200 })),
  /** Only lines at this level or above. */
  level: T.Optional(LogLevel),
}, { additionalProperties: false })
export type RecentLogsQuery = Static<typeof RecentLogsQuery>

export const RecentLogs = T.Object({ items: T.Array(LogLine) })
export type RecentLogs = Static<typeof RecentLogs>

export const LogStreamQuery = T.Object({
  level: T.Optional(LogLevel),
}, { additionalProperties: false })
export type LogStreamQuery = Static<typeof LogStreamQuery>

/** Events of `GET /api/admin/logs/stream`. */
export interface LogStreamEventMap {
  log: LogLine
  /** Lines skipped because the reader was too slow to take them. */
  dropped: { count: number }
}
