import type { Static, TSchema } from '@sinclair/typebox'
import { Type as T } from '@sinclair/typebox'

/** Every error answer: a stable code the SPA translates, an English message, and the request id. */
export const ErrorResponse = T.Object({
  code: T.String(),
  message: T.String(),
  reqId: T.String(),
  retryAfterSeconds: T.Optional(T.Number()),
  /** RATE_WINDOW_FULL / OUTSIDE_TIME_SLOT: when the next ask is allowed (ISO date-time). */
  nextAllowedAt: T.Optional(T.String()),
  /** CAP_SHARE_USED and a model that cannot answer now: the model offered instead. */
  fallback: T.Optional(T.String()),
  /** CAP_SHARE_USED: the member's part of what the group had left, and among how many members it is split. */
  share: T.Optional(T.Object({ of: T.Integer(), members: T.Integer() })),
  /** ACCOUNT_UNAVAILABLE: why the account holding the conversation cannot answer (removed / disabled / unauthorized). */
  reason: T.Optional(T.String()),
  details: T.Optional(T.Unknown()),
})
export type ErrorResponse = Static<typeof ErrorResponse>

/** One page of a paged list: `page` is 1-based, `total` counts the items of every page. */
export function Page<Item extends TSchema>(item: Item) {
  return T.Object({
    items: T.Array(item),
    total: T.Integer(),
    page: T.Integer(),
    pageSize: T.Integer(),
  })
}

/** Error answers a route may give, for its `response` schema. */
export function errors(...statuses: number[]): Record<number, typeof ErrorResponse> {
  return Object.fromEntries(statuses.map(s => [s, ErrorResponse]))
}

export const HealthResponse = T.Object({
  status: T.Literal('ok'),
  version: T.String(),
  uptimeSeconds: T.Number(),
  db: T.Literal('ok'),
})
export type HealthResponse = Static<typeof HealthResponse>
