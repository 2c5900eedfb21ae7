import type { Static } from '@sinclair/typebox'
import { Type as T } from '@sinclair/typebox'

/**
 * The one configuration schema. Every key has a default except secrets, which have none.
 * `config.example.yaml` documents the same keys; a test keeps the two in step.
 */

const ModelKey = T.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' })

const Model = T.Object({
  key: ModelKey,
  name: T.String({ minLength: 1, maxLength: 80 }),
  slug: T.String({ minLength: 1, maxLength: 120 }),
  /** Offered instead (one click) when every account of this model is cooling down or out of cap. */
  fallback: T.Optional(ModelKey),
}, { additionalProperties: false })

/** An outbound proxy: http://, https:// or socks5:// (credentials in the URL). */
const ProxyUrl = T.String({ minLength: 1, maxLength: 500, pattern: '^(https?|socks5h?)://' })

/** The account's own rolling cap per model key, e.g. ChatGPT Plus "80 asks per 3 hours". */
const Cap = T.Object({
  asks: T.Integer({ minimum: 1, maximum: 100_000 }),
  hours: T.Number({ minimum: 0.1, maximum: 24 * 31 }),
}, { additionalProperties: false })

/** Account-safety pacing: asks that look less like a robot (off by default). */
const Pacing = T.Object({
  /** Least time between the starts of two asks on one account. */
  min_gap_seconds: T.Optional(T.Number({ minimum: 0, maximum: 3600 })),
  /** At most this many asks start per minute on one account. */
  per_minute: T.Optional(T.Integer({ minimum: 1, maximum: 1000 })),
  /** Up to this much random extra wait before each start. */
  jitter_seconds: T.Optional(T.Number({ minimum: 0, maximum: 600 })),
}, { additionalProperties: false })

/** One account or key of an upstream's pool. */
export const Account = T.Object({
  id: T.String({ minLength: 1, maxLength: 40, pattern: '^[a-z0-9][a-z0-9_-]*$' }),
  /** ChatGPT web. */
  access_token: T.Optional(T.String()),
  /** ChatGPT web: refreshes the access token before it expires (the `__Secure-next-auth.session-token` cookie). */
  session_token: T.Optional(T.String()),
  /** ChatGPT web team accounts. */
  account_id: T.Optional(T.String()),
  /** OpenAI-compatible. */
  api_key: T.Optional(T.String()),
  concurrency: T.Optional(T.Integer({ minimum: 1, maximum: 64 })),
  proxy: T.Optional(ProxyUrl),
  enabled: T.Optional(T.Boolean({ default: true })),
  caps: T.Optional(T.Record(ModelKey, Cap)),
  pacing: T.Optional(Pacing),
}, { additionalProperties: false })

/**
 * When the group's remaining cap of a model (over this upstream's accounts) falls under `below_percent`
 * of the total, each member active in the window may use only a share of what is left.
 */
const CapShare = T.Object({
  /** off: first come, first served · equal: equal parts · weight: parts by each member's share weight. */
  mode: T.Union([T.Literal('off'), T.Literal('equal'), T.Literal('weight')], { default: 'equal' }),
  below_percent: T.Integer({ minimum: 1, maximum: 100, default: 25 }),
}, { additionalProperties: false })

const UpstreamCommon = {
  id: T.String({ minLength: 1, maxLength: 40, pattern: '^[a-z0-9][a-z0-9_-]*$' }),
  concurrency: T.Optional(T.Integer({ minimum: 1, maximum: 64 })),
  timeout_seconds: T.Optional(T.Integer({ minimum: 1, maximum: 600, default: 30 })),
  idle_timeout_seconds: T.Optional(T.Integer({ minimum: 1, maximum: 3600, default: 120 })),
  models: T.Optional(T.Array(Model, { maxItems: 50 })),
  /** Several accounts or keys behind this upstream; without it, the upstream's own credential is a pool of one. */
  accounts: T.Optional(T.Array(Account, { maxItems: 100 })),
  /** Every account's outbound proxy, unless the account names its own. */
  proxy: T.Optional(ProxyUrl),
  pacing: T.Optional(Pacing),
  /** Default: equal split under 25 % (only matters when some account has `caps`). */
  cap_share: T.Optional(CapShare),
}

export const ChatgptWebUpstream = T.Object({
  ...UpstreamCommon,
  type: T.Literal('chatgpt-web'),
  base_url: T.String({ minLength: 1, pattern: '^https?://' }),
  access_token: T.Optional(T.String()),
  session_token: T.Optional(T.String()),
  account_id: T.Optional(T.String()),
  /** Where a session token is exchanged for a new access token (default: the base URL's origin + /api/auth/session). */
  session_url: T.Optional(T.String({ minLength: 1, pattern: '^https?://' })),
}, { additionalProperties: false })

export const OpenaiUpstream = T.Object({
  ...UpstreamCommon,
  type: T.Literal('openai'),
  base_url: T.Optional(T.String({ minLength: 1, pattern: '^https?://', default: 'https://api.openai.com/v1' })),
  api_key: T.Optional(T.String()),
}, { additionalProperties: false })

export const DemoUpstream = T.Object({
  ...UpstreamCommon,
  type: T.Literal('demo'),
  /** Characters streamed per second. */
  speed: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000, default: 400 })),
  /** Delay before the first token, in milliseconds. */
  first_token_ms: T.Optional(T.Integer({ minimum: 0, maximum: 60_000, default: 400 })),
}, { additionalProperties: false })

export const Upstream = T.Union([ChatgptWebUpstream, OpenaiUpstream, DemoUpstream])

export const ConfigSchema = T.Object({
  server: T.Object({
    host: T.String({ default: '0.0.0.0', minLength: 1 }),
    port: T.Integer({ minimum: 1, maximum: 65535, default: 8080 }),
    /** Trust X-Forwarded-* from a reverse proxy in front of us. */
    trust_proxy: T.Boolean({ default: false }),
    /** Mark the session cookie Secure: "auto" = when the request came over HTTPS. */
    cookie_secure: T.Union([T.Literal('auto'), T.Literal('always'), T.Literal('never')], { default: 'auto' }),
    /** Largest accepted request body, in bytes. */
    body_limit: T.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: 1024 * 1024 }),
    /** Origins allowed to call mutating routes besides our own (e.g. a dev server). */
    allowed_origins: T.Array(T.String(), { default: [] }),
    /**
     * The address members open, e.g. https://chat.example.com: when set, mutating API calls must
     * come from exactly this origin (or one of `allowed_origins`), whatever the Host header says.
     */
    public_url: T.Optional(T.String({ minLength: 1, maxLength: 500, pattern: '^https?://[^/?#\\s]+/?$' })),
  }, { additionalProperties: false, default: {} }),
  log: T.Object({
    level: T.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => T.Literal(l)), { default: 'info' }),
    /** Also write JSON logs to <data dir>/logs/cws.log. */
    file: T.Boolean({ default: true }),
    /** cws.log is rotated (cws.1.log, cws.2.log, …) when it reaches this many MB. */
    max_file_mb: T.Integer({ minimum: 1, maximum: 10_000, default: 20 }),
    /** Rotated log files kept besides cws.log; older ones are deleted. */
    max_files: T.Integer({ minimum: 1, maximum: 1000, default: 5 }),
  }, { additionalProperties: false, default: {} }),
  logs: T.Object({
    /** Ended asks older than this many days are pruned from the ask log (daily and at start); 0 = keep forever. */
    ask_retention_days: T.Integer({ minimum: 0, maximum: 36_500, default: 365 }),
  }, { additionalProperties: false, default: {} }),
  network: T.Object({
    /** Let upstreams saved from the dashboard reach loopback, link-local and private addresses. */
    allow_private_upstreams: T.Boolean({ default: false }),
  }, { additionalProperties: false, default: {} }),
  auth: T.Object({
    /** HS256 secret; generated once into the data dir when absent. */
    jwt_secret: T.Optional(T.String({ minLength: 32 })),
    /** A session not used for this long ends. */
    session_idle_hours: T.Integer({ minimum: 1, maximum: 24 * 365, default: 24 * 7 }),
    /** A session ends this long after login, whatever happens. */
    session_max_days: T.Integer({ minimum: 1, maximum: 365, default: 30 }),
    /** Failed logins of one account from one source (IP, or a device that logged in before) before that source is refused for the window; elsewhere failures only slow the answer (at most 3 s). */
    login_max_failures: T.Integer({ minimum: 1, maximum: 1000, default: 5 }),
    login_window_minutes: T.Integer({ minimum: 1, maximum: 24 * 60, default: 15 }),
  }, { additionalProperties: false, default: {} }),
  admin: T.Object({
    username: T.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$', default: 'admin' }),
    /** First admin's password; generated and printed once when absent. */
    password: T.Optional(T.String({ minLength: 8, maxLength: 128 })),
  }, { additionalProperties: false, default: {} }),
  chat: T.Object({
    /** Longest question accepted, in characters. */
    max_content_chars: T.Integer({ minimum: 1, maximum: 1_000_000, default: 32_000 }),
    /** API upstreams: how much earlier conversation (in characters) is sent as context. */
    history_max_chars: T.Integer({ minimum: 0, maximum: 10_000_000, default: 48_000 }),
    /** Asks waiting at most, per upstream. */
    queue_max_depth: T.Integer({ minimum: 1, maximum: 100_000, default: 200 }),
    /** Longest wait in the queue before QUEUE_TIMEOUT. */
    queue_max_wait_seconds: T.Integer({ minimum: 1, maximum: 86_400, default: 600 }),
    /** Seconds between SSE keep-alive comments. */
    ping_seconds: T.Integer({ minimum: 1, maximum: 600, default: 15 }),
    /** Answer text arriving within this many ms of the last write is sent together (0 = every piece at once). */
    stream_coalesce_ms: T.Integer({ minimum: 0, maximum: 1000, default: 40 }),
    /**
     * An ask whose every listener went away (page closed, connection lost) goes on for this long,
     * waiting in the queue or answering, so the member can come back to it; then it is stopped as
     * "interrupted", its partial answer kept. 0 = stop at once when the last listener leaves.
     */
    detached_grace_seconds: T.Integer({ minimum: 0, maximum: 86_400, default: 300 }),
    /** A reader whose socket buffer stayed full this long is dropped (the ask goes on detached). 0 = never. */
    stalled_reader_seconds: T.Integer({ minimum: 0, maximum: 86_400, default: 60 }),
  }, { additionalProperties: false, default: {} }),
  limits: T.Object({
    /** Time zone in which members' daily time slots are read (IANA name). */
    timezone: T.String({ minLength: 1, default: 'UTC' }),
  }, { additionalProperties: false, default: {} }),
  /** Empty = the built-in offline demo upstream. */
  upstreams: T.Array(Upstream, { default: [] }),
  alerts: T.Object({
    /** A generic JSON POST on every change of an account's state (README, "Alerts"). Empty = off. */
    webhook_url: T.Optional(T.String({ pattern: '^https?://' })),
    /** Without a session token, warn this many days before an access token expires. */
    expiry_warning_days: T.Array(T.Integer({ minimum: 1, maximum: 60 }), { default: [3, 1] }),
  }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false })

export type Config = Static<typeof ConfigSchema>
export type UpstreamConfig = Static<typeof Upstream>
export type ModelConfig = Static<typeof Model>
export type AccountConfig = Static<typeof Account>
export type PacingConfig = Static<typeof Pacing>
export type CapShareConfig = Static<typeof CapShare>
