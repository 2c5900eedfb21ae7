import type { Static, TSchema } from '@sinclair/typebox'
import { Type as T } from '@sinclair/typebox'
import { ModelPool } from './upstreams.js'

/**
 * Per-member limits (docs/limits.md). Counts use -1 for "unlimited".
 * Formats and cross-field rules (HH:MM, overlapping slots, known model keys) are checked by the
 * limits service, whose messages name the offending field.
 */

/**
 * `T | null` as one schema with `type: [T, "null"]`. Not a union: the server's ajv coerces types,
 * and in a union one branch would coerce a value meant for the other (null → 0, or 0 → null).
 */
function Nullable<S extends TSchema & { type: string }>(schema: S) {
  return T.Unsafe<Static<S> | null>({ ...schema, type: [schema.type, 'null'] })
}

/** -1 = unlimited, otherwise what remains (≥ 0). */
export const Count = T.Integer({ minimum: -1, maximum: 1_000_000_000 })

/** A daily slot in the configured `limits.timezone`, `[start, end)`; it crosses midnight when end < start. */
export const TimeSlot = T.Object({
  /** "HH:MM", 00:00–23:59 */
  start: T.String({ maxLength: 5 }),
  /** "HH:MM", 00:00–24:00 */
  end: T.String({ maxLength: 5 }),
}, { additionalProperties: false })
export type TimeSlot = Static<typeof TimeSlot>

/** At most `max` asks of `model` in any rolling `windowSeconds`. Several per model are allowed. */
export const RateWindow = T.Object({
  model: T.String({ minLength: 1, maxLength: 64 }),
  max: T.Integer({ minimum: 1, maximum: 1_000_000 }),
  windowSeconds: T.Integer({ minimum: 1, maximum: 366 * 86_400 }),
}, { additionalProperties: false })
export type RateWindow = Static<typeof RateWindow>

/** The admin's view of a member's limits (the wire shape of `GET /api/admin/users/:id/limits`). */
export const Limits = T.Object({
  /** May ask at all. */
  enabled: T.Boolean(),
  /** After this instant asks fail with ACCOUNT_EXPIRED; null = forever. */
  validUntil: Nullable(T.String({ format: 'date-time' })),
  /** Model keys the member may use; null = every model. */
  allowedModels: Nullable(T.Array(T.String({ minLength: 1, maxLength: 64 }), { maxItems: 200 })),
  /** Most conversations the member may own; -1 = unlimited. */
  maxConversations: Count,
  /** Asks remaining across every model; -1 = unlimited. */
  totalAsks: Count,
  /** Asks remaining per model; a model missing here takes the default for new members (admins: unlimited). */
  modelAsks: T.Record(T.String({ minLength: 1, maxLength: 64 }), Count),
  /** Asks running at once (further asks wait in the queue behind the member's own). */
  maxInFlight: T.Integer({ minimum: 1, maximum: 100 }),
  rateWindows: T.Array(RateWindow, { maxItems: 100 }),
  /** Empty = any time of day. */
  timeSlots: T.Array(TimeSlot, { maxItems: 48 }),
  /** This member's weight when a capped model's remainder is shared by weight (upstream `cap_share.mode: weight`). */
  shareWeight: T.Integer({ minimum: 1, maximum: 100 }),
}, { additionalProperties: false })
export type Limits = Static<typeof Limits>

/**
 * A partial update. Fields present replace the stored value; `modelAsks` is merged per model
 * (a `null` value removes the member's own count, so the default applies again).
 */
export const LimitsPatch = T.Object({
  enabled: T.Optional(T.Boolean()),
  validUntil: T.Optional(Nullable(T.String({ format: 'date-time' }))),
  allowedModels: T.Optional(Nullable(T.Array(T.String({ minLength: 1, maxLength: 64 }), { maxItems: 200 }))),
  maxConversations: T.Optional(Count),
  totalAsks: T.Optional(Count),
  modelAsks: T.Optional(T.Record(T.String({ minLength: 1, maxLength: 64 }), Nullable(Count))),
  maxInFlight: T.Optional(T.Integer({ minimum: 1, maximum: 100 })),
  rateWindows: T.Optional(T.Array(RateWindow, { maxItems: 100 })),
  timeSlots: T.Optional(T.Array(TimeSlot, { maxItems: 48 })),
  shareWeight: T.Optional(T.Integer({ minimum: 1, maximum: 100 })),
}, { additionalProperties: false })
export type LimitsPatch = Static<typeof LimitsPatch>

export const ApplyLimitsBody = T.Object({
  userIds: T.Array(T.Integer({ minimum: 1 }), { minItems: 1, maxItems: 1000 }),
  limits: LimitsPatch,
}, { additionalProperties: false })
export type ApplyLimitsBody = Static<typeof ApplyLimitsBody>

export const ApplyLimitsResponse = T.Object({ updated: T.Array(T.Integer()) })
export type ApplyLimitsResponse = Static<typeof ApplyLimitsResponse>

/** Why a model can't be used right now (an error code the SPA translates), or null. */
export const UnavailableReason = T.Union([
  T.Literal('ACCOUNT_DISABLED'),
  T.Literal('ACCOUNT_EXPIRED'),
  T.Literal('OUTSIDE_TIME_SLOT'),
  T.Literal('TOTAL_ASKS_EXHAUSTED'),
  T.Literal('MODEL_ASKS_EXHAUSTED'),
  T.Literal('RATE_WINDOW_FULL'),
  T.Literal('CAP_SHARE_USED'),
  T.Null(),
])
export type UnavailableReason = Static<typeof UnavailableReason>

export const WindowState = T.Object({
  max: T.Integer(),
  windowSeconds: T.Integer(),
  /** Asks counted in the window right now (reserved or committed). */
  used: T.Integer(),
  /** When the oldest counted ask leaves the window; null when the window is empty. */
  nextFreeAt: Nullable(T.String({ format: 'date-time' })),
}, { additionalProperties: false })
export type WindowState = Static<typeof WindowState>

/** A model as a member sees it (`GET /api/models`). */
export const ModelStatus = T.Object({
  key: T.String(),
  name: T.String(),
  upstreamId: T.String(),
  upstreamType: T.Union([T.Literal('chatgpt-web'), T.Literal('openai'), T.Literal('demo')]),
  /** Served by the built-in offline demo upstream. */
  isDemo: T.Boolean(),
  remaining: T.Object({
    /** Asks remaining across models; -1 = unlimited. */
    total: T.Integer(),
    /** Asks remaining for this model; -1 = unlimited. */
    model: T.Integer(),
  }),
  windows: T.Array(WindowState),
  available: T.Boolean(),
  reason: UnavailableReason,
  /** When `available` is false for a reason that passes with time: when it passes. */
  nextAllowedAt: Nullable(T.String({ format: 'date-time' })),
  /** The shared accounts behind the model (`GET /api/models` only). */
  pool: T.Optional(ModelPool),
}, { additionalProperties: false })
export type ModelStatus = Static<typeof ModelStatus>

export const ModelsResponse = T.Object({ models: T.Array(ModelStatus) })
export type ModelsResponse = Static<typeof ModelsResponse>

/** `GET /api/me` → `limits`: the member's limits and what remains of them. */
export const MyLimits = T.Object({
  enabled: T.Boolean(),
  validUntil: Nullable(T.String({ format: 'date-time' })),
  allowedModels: Nullable(T.Array(T.String())),
  totalAsks: T.Integer(),
  maxInFlight: T.Integer(),
  conversations: T.Object({ used: T.Integer(), max: T.Integer() }),
  timeSlots: T.Array(TimeSlot),
  /** The IANA time zone the time slots are read in. */
  timezone: T.String(),
  /** Inside a time slot now (true when there are none). */
  inTimeSlot: T.Boolean(),
  models: T.Array(ModelStatus),
}, { additionalProperties: false })
export type MyLimits = Static<typeof MyLimits>
