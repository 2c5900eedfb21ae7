/**
 * The access token of a ChatGPT web account over its life (docs/architecture.md, "Upstreams and
 * accounts"): its expiry is read from the JWT's `exp`; with a session token, it is exchanged for a
 * new one before it expires and at once after a 401 — exactly one exchange however many asks wait
 * for it — through the account's proxy. The new access token (and a session token rotated by
 * `Set-Cookie`) is kept in the database, so a restart goes on with it.
 */
import type { Dispatcher } from 'undici'
import { request } from 'undici'

/** Refresh when less than this is left. */
const REFRESH_AHEAD_MS = 60 * 60_000
/** The background timer looks again at least this often (timers cannot be set days ahead). */
const LOOK_AGAIN_MS = 6 * 3600_000
/** After a failed background exchange, try again after this, doubling up to RETRY_MAX_MS. */
const RETRY_MS = 60_000
const RETRY_MAX_MS = 30 * 60_000
const SESSION_COOKIE = '__Secure-next-auth.session-token'

/** The `exp` of a JWT (no signature check: we only need to know when the upstream will refuse it). */
export function jwtExpiry(token: string | undefined): Date | undefined {
  const part = token?.split('.')[1]
  if (!part)
    return undefined
  try {
    const exp = (JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { exp?: unknown }).exp
    return typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : undefined
  }
  catch {
    return undefined
  }
}

/** What is kept across restarts for one account. */
export interface StoredTokens {
  accessToken: string
  sessionToken?: string
  /** Fingerprint of the configured credentials it was derived from: a new config token wins over it. */
  from: string
  refreshedAt: string
}

export interface TokenKeeperDeps {
  configured: { accessToken?: string, sessionToken?: string }
  sessionUrl: string
  dispatcher?: Dispatcher
  timeoutSeconds: number
  stored?: StoredTokens
  save: (t: StoredTokens) => Promise<void>
  now: () => Date
  logger?: { info: (obj: object, msg?: string) => void, warn: (obj: object, msg?: string) => void }
  /** Told after a successful exchange (the account's health goes back to ok). */
  onRefreshed?: () => void
}

export class TokenKeeper {
  private accessToken: string | undefined
  private sessionToken: string | undefined
  private inflight: Promise<boolean> | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private running = false
  private retryMs = RETRY_MS
  private readonly from: string
  lastError: string | undefined

  constructor(private readonly deps: TokenKeeperDeps) {
    this.from = fingerprint(deps.configured)
    const stored = deps.stored?.from === this.from ? deps.stored : undefined
    this.accessToken = stored?.accessToken ?? deps.configured.accessToken
    this.sessionToken = stored?.sessionToken ?? deps.configured.sessionToken
  }

  /** The access token to send now. */
  current(): string | undefined {
    return this.accessToken
  }

  get canRefresh(): boolean {
    return !!this.sessionToken
  }

  expiresAt(): Date | undefined {
    return jwtExpiry(this.accessToken)
  }

  /** Before an ask: refreshes first when the token is missing, expired or about to be (one exchange for all waiting). */
  async ready(): Promise<void> {
    if (!this.canRefresh)
      return
    const exp = this.expiresAt()
    if (this.accessToken && (!exp || exp.getTime() - this.deps.now().getTime() > REFRESH_AHEAD_MS))
      return
    await this.refresh()
  }

  /**
   * Keeps the token fresh without waiting for an ask: exchanges it REFRESH_AHEAD_MS before its
   * `exp` (at once when it is missing or already due), retrying with backoff when that fails.
   */
  start(): void {
    this.running = true
    this.schedule()
  }

  stop(): void {
    this.running = false
    clearTimeout(this.timer)
  }

  private schedule(delayMs?: number): void {
    clearTimeout(this.timer)
    if (!this.running || !this.canRefresh)
      return
    const exp = this.expiresAt()
    // A token without a readable `exp` is refreshed on demand only (after a 401).
    if (this.accessToken && !exp && delayMs === undefined)
      return
    const due = delayMs ?? (exp ? exp.getTime() - REFRESH_AHEAD_MS - this.deps.now().getTime() : 0)
    this.timer = setTimeout(() => {
      if (due > LOOK_AGAIN_MS)
        return this.schedule()
      void this.refresh().then((ok) => {
        this.retryMs = ok ? RETRY_MS : Math.min(this.retryMs * 2, RETRY_MAX_MS)
        this.schedule(ok ? undefined : this.retryMs)
      })
    }, Math.min(Math.max(0, due), LOOK_AGAIN_MS))
    this.timer.unref?.()
  }

  /** Exchanges the session token for a new access token; true when it got one. Single-flight. */
  refresh(): Promise<boolean> {
    if (!this.sessionToken)
      return Promise.resolve(false)
    this.inflight ??= this.exchange().finally(() => {
      this.inflight = undefined
    })
    return this.inflight
  }

  private async exchange(): Promise<boolean> {
    try {
      const res = await request(this.deps.sessionUrl, {
        method: 'GET',
        headers: { 'cookie': `${SESSION_COOKIE}=${this.sessionToken}`, 'accept': 'application/json', 'user-agent': 'Mozilla/5.0' },
        dispatcher: this.deps.dispatcher,
        headersTimeout: this.deps.timeoutSeconds * 1000,
        bodyTimeout: this.deps.timeoutSeconds * 1000,
      })
      const text = await res.body.text()
      if (res.statusCode !== 200)
        return this.failed(`the session endpoint answered HTTP ${res.statusCode}`)
      let body: { accessToken?: unknown }
      try {
        body = JSON.parse(text) as { accessToken?: unknown }
      }
      catch {
        return this.failed('the session endpoint did not answer JSON')
      }
      if (typeof body.accessToken !== 'string' || !body.accessToken)
        return this.failed('the session token was not accepted (no accessToken in the answer)')
      this.accessToken = body.accessToken
      const rotated = rotatedSessionToken(res.headers['set-cookie'])
      if (rotated)
        this.sessionToken = rotated
      this.lastError = undefined
      await this.deps.save({ accessToken: this.accessToken, sessionToken: this.sessionToken, from: this.from, refreshedAt: this.deps.now().toISOString() })
      this.deps.logger?.info({ expiresAt: this.expiresAt()?.toISOString(), rotated: !!rotated }, 'access token refreshed')
      this.deps.onRefreshed?.()
      this.schedule()
      return true
    }
    catch (err) {
      return this.failed(`the session endpoint could not be reached (${(err as { code?: string }).code ?? 'error'})`)
    }
  }

  private failed(reason: string): false {
    this.lastError = reason
    this.deps.logger?.warn({ reason }, 'access token refresh failed')
    return false
  }
}

function fingerprint(c: { accessToken?: string, sessionToken?: string }): string {
  // Not the secrets themselves: enough to tell that the configured ones changed.
  const tail = (s?: string): string => (s ? `${s.length}:${s.slice(-6)}` : '-')
  return `${tail(c.accessToken)}|${tail(c.sessionToken)}`
}

function rotatedSessionToken(header: string | string[] | undefined): string | undefined {
  for (const c of Array.isArray(header) ? header : header ? [header] : []) {
    const m = new RegExp(`^${SESSION_COOKIE.replace(/[.-]/g, '\\$&')}=([^;]+)`).exec(c)
    if (m?.[1])
      return m[1]
  }
  return undefined
}
