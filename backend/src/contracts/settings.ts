import type { Static } from '@sinclair/typebox'
import { Type as T } from '@sinclair/typebox'

export const UpstreamType = T.Union([T.Literal('chatgpt-web'), T.Literal('openai'), T.Literal('demo')])
export type UpstreamType = Static<typeof UpstreamType>

/** A model members can pick: `key` is what they see and must be unique across upstreams; `slug` is the upstream's own name. */
export const ModelSetting = T.Object({
  key: T.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' }),
  name: T.String({ minLength: 1, maxLength: 80 }),
  slug: T.String({ minLength: 1, maxLength: 120 }),
  /** Another model key, offered (one click) when every account of this one is cooling down or out of cap. */
  fallback: T.Optional(T.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' })),
}, { additionalProperties: false })
export type ModelSetting = Static<typeof ModelSetting>

/** Account-safety pacing (all optional; none = off). */
export const PacingSetting = T.Object({
  minGapSeconds: T.Optional(T.Number({ minimum: 0, maximum: 3600 })),
  perMinute: T.Optional(T.Integer({ minimum: 1, maximum: 1000 })),
  jitterSeconds: T.Optional(T.Number({ minimum: 0, maximum: 600 })),
}, { additionalProperties: false })
export type PacingSetting = Static<typeof PacingSetting>

/** The account's own rolling cap for one model key: `asks` per `hours`. */
export const CapSetting = T.Object({
  asks: T.Integer({ minimum: 1, maximum: 100_000 }),
  hours: T.Number({ minimum: 0.1, maximum: 24 * 31 }),
}, { additionalProperties: false })
export type CapSetting = Static<typeof CapSetting>

/** How a capped model is shared once the group's remainder falls under `belowPercent` of the total. */
export const CapShareSetting = T.Object({
  mode: T.Union([T.Literal('off'), T.Literal('equal'), T.Literal('weight')]),
  belowPercent: T.Integer({ minimum: 1, maximum: 100 }),
}, { additionalProperties: false })
export type CapShareSetting = Static<typeof CapShareSetting>

const Caps = T.Record(T.String({ pattern: '^[A-Za-z0-9._:-]+$' }), CapSetting)

/**
 * One account of an upstream's pool as the admin sees it: never a credential, only whether one is
 * set; a proxy only as `scheme://host:port` (its URL may carry a user and password).
 */
export const AccountSetting = T.Object({
  id: T.String(),
  /** ChatGPT web: an access token; OpenAI: an API key. */
  credentialSet: T.Boolean(),
  sessionTokenSet: T.Boolean(),
  accountIdSet: T.Boolean(),
  /** null: the upstream's concurrency. */
  concurrency: T.Union([T.Integer(), T.Null()]),
  /** The account's own proxy, redacted; null: the upstream's (if any). */
  proxy: T.Union([T.String(), T.Null()]),
  enabled: T.Boolean(),
  caps: Caps,
  /** null: the upstream's pacing. */
  pacing: T.Union([PacingSetting, T.Null()]),
})
export type AccountSetting = Static<typeof AccountSetting>

/**
 * An upstream as the admin sees it. Never the access token or API key: only whether one is set.
 * `baseUrl` is null for the demo upstream (and for an OpenAI upstream on the default URL it is that URL).
 */
export const UpstreamSetting = T.Object({
  id: T.String(),
  type: UpstreamType,
  baseUrl: T.Union([T.String(), T.Null()]),
  concurrency: T.Integer(),
  timeoutSeconds: T.Integer(),
  idleTimeoutSeconds: T.Integer(),
  /** Demo only: characters per second, and the delay before the first token. */
  speed: T.Optional(T.Integer()),
  firstTokenMs: T.Optional(T.Integer()),
  models: T.Array(ModelSetting),
  /** ChatGPT web: an access token is set; OpenAI: an API key is set. Always false for the demo. */
  credentialSet: T.Boolean(),
  /** ChatGPT web (Team): a `ChatGPT-Account-Id` is set. */
  accountIdSet: T.Boolean(),
  /** ChatGPT web: the upstream's own session token is set (it refreshes its access token). */
  sessionTokenSet: T.Boolean(),
  /** The pool; empty: the upstream's own credential is a pool of one. */
  accounts: T.Array(AccountSetting),
  /** Every account's proxy unless it names its own, redacted to `scheme://host:port`. */
  proxy: T.Union([T.String(), T.Null()]),
  pacing: T.Union([PacingSetting, T.Null()]),
  /** null: the default (equal split under 25 %). */
  capShare: T.Union([CapShareSetting, T.Null()]),
})
export type UpstreamSetting = Static<typeof UpstreamSetting>

/** Where the upstreams in effect come from: the config file / environment, or saved from the dashboard. */
export const UpstreamSource = T.Union([T.Literal('config'), T.Literal('dashboard')])
export type UpstreamSource = Static<typeof UpstreamSource>

export const UpstreamSettings = T.Object({
  source: UpstreamSource,
  /** When the dashboard's upstreams were saved; null when they come from the config. */
  updatedAt: T.Union([T.String({ format: 'date-time' }), T.Null()]),
  upstreams: T.Array(UpstreamSetting),
})
export type UpstreamSettings = Static<typeof UpstreamSettings>

// `null` comes first in these unions: the request validator coerces types, and would turn a null
// into '' for a string branch tried before it.

/** A proxy URL to save: http://, https:// or socks5:// (a user and password may be in it). */
const ProxyInput = T.String({ minLength: 1, maxLength: 500, pattern: '^(https?|socks5h?)://' })

/**
 * One account to save. Write-only: `credential`, `sessionToken`, `accountId` and `proxy` omitted (or
 * empty) keep what the account with this `id` has now; `null` removes one. A new account needs its
 * credential (or, on ChatGPT web, a session token). When the upstream's base URL moves to another
 * origin, nothing stored is kept: every credential must be entered again.
 */
export const AccountSettingInput = T.Object({
  id: T.String({ minLength: 1, maxLength: 40, pattern: '^[a-z0-9][a-z0-9_-]*$' }),
  credential: T.Optional(T.String({ maxLength: 8000 })),
  sessionToken: T.Optional(T.Union([T.Null(), T.String({ maxLength: 8000 })])),
  accountId: T.Optional(T.Union([T.Null(), T.String({ maxLength: 200 })])),
  concurrency: T.Optional(T.Integer({ minimum: 1, maximum: 64 })),
  proxy: T.Optional(T.Union([T.Null(), T.String({ maxLength: 500 })])),
  enabled: T.Optional(T.Boolean()),
  caps: T.Optional(Caps),
  pacing: T.Optional(PacingSetting),
}, { additionalProperties: false })
export type AccountSettingInput = Static<typeof AccountSettingInput>

/**
 * One upstream to save. `credential` (the access token or API key) and `accountId` are write-only:
 * omitted (or an empty credential) keeps what the upstream with this `id` has now; a new upstream of
 * type chatgpt-web or openai needs a credential. `accountId: null` removes the account id.
 */
export const UpstreamSettingInput = T.Object({
  id: T.String({ minLength: 1, maxLength: 40, pattern: '^[a-z0-9][a-z0-9_-]*$' }),
  type: UpstreamType,
  baseUrl: T.Optional(T.String({ minLength: 1, maxLength: 2000, pattern: '^https?://' })),
  concurrency: T.Optional(T.Integer({ minimum: 1, maximum: 64 })),
  timeoutSeconds: T.Optional(T.Integer({ minimum: 1, maximum: 600 })),
  idleTimeoutSeconds: T.Optional(T.Integer({ minimum: 1, maximum: 3600 })),
  speed: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000 })),
  firstTokenMs: T.Optional(T.Integer({ minimum: 0, maximum: 60_000 })),
  models: T.Array(ModelSetting, { minItems: 1, maxItems: 50 }),
  credential: T.Optional(T.String({ maxLength: 8000 })),
  accountId: T.Optional(T.Union([T.String({ minLength: 1, maxLength: 200 }), T.Null()])),
  /**
   * The pool. Omitted: the accounts stay as they are; `[]`: none (the upstream's own credential).
   * With accounts, the upstream's own credential is not needed.
   */
  accounts: T.Optional(T.Array(AccountSettingInput, { maxItems: 100 })),
  /** Omitted or empty: kept (write-only); null: none. */
  proxy: T.Optional(T.Union([T.Null(), ProxyInput, T.Literal('')])),
  /** Omitted: kept; null: none. */
  pacing: T.Optional(T.Union([PacingSetting, T.Null()])),
  /** Omitted: kept; null: the default. */
  capShare: T.Optional(T.Union([CapShareSetting, T.Null()])),
}, { additionalProperties: false })
export type UpstreamSettingInput = Static<typeof UpstreamSettingInput>

/** The whole list, in the order members see the models. Empty = the built-in demo upstream. */
export const SaveUpstreamsBody = T.Object({
  upstreams: T.Array(UpstreamSettingInput, { maxItems: 32 }),
}, { additionalProperties: false })
export type SaveUpstreamsBody = Static<typeof SaveUpstreamsBody>
