import type { Static } from '@sinclair/typebox'
import { Type as T } from '@sinclair/typebox'

const DateTime = T.String({ format: 'date-time' })
const Nullable = <S extends ReturnType<typeof T.String>>(s: S) => T.Union([s, T.Null()])

/**
 * The state of one account of an upstream's pool:
 * - `ok`; `cooling` (rate limited) until `until`; `expiring` (its access token ends at `until`,
 *   and there is no session token to refresh it); `unauthorized` (its credential was refused) since
 *   `since`; `unreachable` since `since`; `disabled` by the admin.
 */
export const AccountState = T.Union(['ok', 'cooling', 'expiring', 'unauthorized', 'unreachable', 'disabled'].map(s => T.Literal(s)))
export type AccountState = Static<typeof AccountState>

export const AccountCap = T.Object({
  model: T.String(),
  asks: T.Integer(),
  hours: T.Number(),
  used: T.Integer(),
  /** A lower cap the upstream showed (its cap message came before our count reached `asks`). */
  learned: T.Optional(T.Integer()),
  resetsAt: Nullable(DateTime),
})

/** `GET /api/admin/upstreams/accounts`: no credential, only whether one is set and when it expires. */
export const AccountStatus = T.Object({
  upstreamId: T.String(),
  accountId: T.String(),
  type: T.String(),
  state: AccountState,
  since: Nullable(DateTime),
  until: Nullable(DateTime),
  /** The last error, redacted (safe to show). */
  lastError: Nullable(T.String()),
  tokenExpiresAt: Nullable(DateTime),
  /** A session token refreshes the access token before it expires. */
  canRefresh: T.Boolean(),
  running: T.Integer(),
  concurrency: T.Integer(),
  proxied: T.Boolean(),
  caps: T.Array(AccountCap),
})
export type AccountStatus = Static<typeof AccountStatus>

export const AccountList = T.Object({ items: T.Array(AccountStatus) })
export type AccountList = Static<typeof AccountList>

export const AccountParams = T.Object({ upstreamId: T.String({ maxLength: 40 }), accountId: T.String({ maxLength: 40 }) })
export type AccountParams = Static<typeof AccountParams>

/** `POST /api/admin/upstreams/:upstreamId/accounts/:accountId/test`: a cheap real call. */
export const AccountTest = T.Object({
  ok: T.Boolean(),
  /** What went wrong, redacted, when not ok. */
  message: Nullable(T.String()),
  /** ChatGPT web: the account's plan (free, plus, team, …) when the upstream says. */
  plan: Nullable(T.String()),
  latencyMs: T.Integer(),
  account: AccountStatus,
})
export type AccountTest = Static<typeof AccountTest>

/** A change of an account's state, as the dashboard banner and the webhook see it. */
export const AccountAlert = T.Object({
  id: T.Integer(),
  at: DateTime,
  upstreamId: T.String(),
  accountId: T.String(),
  state: AccountState,
  previous: AccountState,
  message: T.String(),
  until: Nullable(DateTime),
})
export type AccountAlert = Static<typeof AccountAlert>

export const AlertList = T.Object({ items: T.Array(AccountAlert) })
export type AlertList = Static<typeof AlertList>

/** What members see of a model's pool (`GET /api/models`). */
export const ModelPool = T.Object({
  /** `down`: no account can answer (refused or unreachable); `cooling`/`capped`: back at `until`. */
  state: T.Union([T.Literal('ok'), T.Literal('cooling'), T.Literal('capped'), T.Literal('down')]),
  until: Nullable(DateTime),
  /** The accounts' own caps for this model, shared by the whole group. */
  groupCap: T.Union([T.Object({ remaining: T.Integer(), total: T.Integer(), resetsAt: Nullable(DateTime) }), T.Null()]),
  /**
   * This member's part of what the group has left (`cap_share`): set only while the split is in force
   * (what is left fell under the threshold). `remaining` of `of` asks, shared among `members`.
   */
  share: T.Union([T.Object({ remaining: T.Integer(), of: T.Integer(), members: T.Integer() }), T.Null()]),
  /** Offered instead when this model cannot answer now. */
  fallback: Nullable(T.String()),
})
export type ModelPool = Static<typeof ModelPool>
