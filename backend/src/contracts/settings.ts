import type { Static } from '@sinclair/typebox'
import { Type as T } from '@sinclair/typebox'

export const UpstreamType = T.Union([T.Literal('chatgpt-web'), T.Literal('openai'), T.Literal('demo')])
export type UpstreamType = Static<typeof UpstreamType>

/** A model members can pick: `key` is what they see and must be unique across upstreams; `slug` is the upstream's own name. */
export const ModelSetting = T.Object({
  key: T.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' }),
  name: T.String({ minLength: 1, maxLength: 80 }),
  slug: T.String({ minLength: 1, maxLength: 120 }),
}, { additionalProperties: false })
export type ModelSetting = Static<typeof ModelSetting>

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
}, { additionalProperties: false })
export type UpstreamSettingInput = Static<typeof UpstreamSettingInput>

/** The whole list, in the order members see the models. Empty = the built-in demo upstream. */
export const SaveUpstreamsBody = T.Object({
  upstreams: T.Array(UpstreamSettingInput, { maxItems: 32 }),
}, { additionalProperties: false })
export type SaveUpstreamsBody = Static<typeof SaveUpstreamsBody>
