import type { Static } from '@sinclair/typebox'
import { Type as T } from '@sinclair/typebox'

const DateTime = T.String({ format: 'date-time' })
const NullableInt = T.Union([T.Integer(), T.Null()])

export const StatsBucket = T.Union([T.Literal('hour'), T.Literal('day')])
export type StatsBucket = Static<typeof StatsBucket>

/**
 * `GET /api/admin/stats`. Default range: the last 14 days (`day`) or 48 hours (`hour`) up to now.
 * Buckets are read in the configured `limits.timezone`; at most 800 buckets per answer.
 */
export const StatsQuery = T.Object({
  from: T.Optional(DateTime),
  to: T.Optional(DateTime),
  bucket: T.Optional(StatsBucket),
}, { additionalProperties: false })
export type StatsQuery = Static<typeof StatsQuery>

/** Asks aggregated over some set (a range, a model, a member). */
export const AskAggregate = T.Object({
  asks: T.Integer(),
  done: T.Integer(),
  stopped: T.Integer(),
  error: T.Integer(),
  /** queued, running or interrupted. */
  other: T.Integer(),
  /** Mean queue wait of the asks that have one, ms. */
  avgQueueWaitMs: NullableInt,
  /** Mean time to first token of the asks that have one, ms. */
  avgTtftMs: NullableInt,
  charsIn: T.Integer(),
  charsOut: T.Integer(),
  /** Sum of the known token counts (null when none is known). */
  tokensOut: NullableInt,
})
export type AskAggregate = Static<typeof AskAggregate>

export const StatsSeriesPoint = T.Object({
  /** Local label in the configured zone: `YYYY-MM-DD` (day) or `YYYY-MM-DD HH:00` (hour). */
  key: T.String(),
  /** The instant the bucket starts. */
  start: DateTime,
  asks: T.Integer(),
  /** Asks per model key (only models with asks in this bucket). */
  byModel: T.Record(T.String(), T.Integer()),
  errors: T.Integer(),
})
export type StatsSeriesPoint = Static<typeof StatsSeriesPoint>

export const ModelStats = T.Composite([T.Object({ model: T.String(), name: T.String() }), AskAggregate])
export type ModelStats = Static<typeof ModelStats>

export const MemberStats = T.Composite([T.Object({
  userId: T.Integer(),
  username: T.String(),
  nickname: T.String(),
  lastAskAt: T.Union([DateTime, T.Null()]),
}), AskAggregate])
export type MemberStats = Static<typeof MemberStats>

export const StatsTotals = T.Object({
  users: T.Integer(),
  enabledUsers: T.Integer(),
  /** Users who used the app (a request with their session, or an ask) in the last 24 h / 7 days. */
  active1d: T.Integer(),
  active7d: T.Integer(),
  conversations: T.Integer(),
  messages: T.Integer(),
  /** Asks since local midnight in the configured zone. */
  asksToday: T.Integer(),
  /** The database on disk: cws.db plus its WAL, in bytes. */
  dbBytes: T.Integer(),
  /** Ended asks are kept this many days in the ask log (`logs.ask_retention_days`); 0 = forever. */
  askRetentionDays: T.Integer(),
})
export type StatsTotals = Static<typeof StatsTotals>

export const StatsResponse = T.Object({
  from: DateTime,
  to: DateTime,
  bucket: StatsBucket,
  timezone: T.String(),
  totals: StatsTotals,
  /** Every ask in the range. */
  summary: AskAggregate,
  /** Every bucket of the range, empty ones included, oldest first. */
  series: T.Array(StatsSeriesPoint),
  /** Models with asks in the range, most asked first. */
  perModel: T.Array(ModelStats),
  /** Members with asks in the range, most asks first (at most 100). */
  perUser: T.Array(MemberStats),
})
export type StatsResponse = Static<typeof StatsResponse>

/** `GET /api/admin/stats/meta`: what the dashboard's editors need to know about the server. */
export const AdminMeta = T.Object({
  /** IANA zone daily time slots and stats buckets are read in. */
  timezone: T.String(),
  /** The configured models, in configuration order. */
  models: T.Array(T.Object({
    key: T.String(),
    name: T.String(),
    upstreamId: T.String(),
    isDemo: T.Boolean(),
  })),
})
export type AdminMeta = Static<typeof AdminMeta>

/** `GET /api/admin/stats/members?ids=1,2,3`: per member, what remains of their limits and recent use. */
export const MemberSummaryQuery = T.Object({
  ids: T.String({ pattern: '^[0-9]{1,12}(,[0-9]{1,12}){0,99}$' }),
}, { additionalProperties: false })
export type MemberSummaryQuery = Static<typeof MemberSummaryQuery>

export const MemberSummary = T.Object({
  userId: T.Integer(),
  /** The limits' own switch (the account switch is `enabled` on the user). */
  limitsEnabled: T.Boolean(),
  validUntil: T.Union([DateTime, T.Null()]),
  /** `validUntil` has passed. */
  expired: T.Boolean(),
  /** -1 = unlimited. */
  totalAsks: T.Integer(),
  /** Remaining asks per model the member may use (-1 = unlimited), in configuration order. */
  models: T.Array(T.Object({ model: T.String(), name: T.String(), remaining: T.Integer() })),
  asks7d: T.Integer(),
  lastAskAt: T.Union([DateTime, T.Null()]),
})
export type MemberSummary = Static<typeof MemberSummary>

export const MemberSummaryList = T.Object({ items: T.Array(MemberSummary) })
export type MemberSummaryList = Static<typeof MemberSummaryList>
