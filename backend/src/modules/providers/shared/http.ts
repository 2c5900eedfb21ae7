import type { Dispatcher } from 'undici'
import type { ProviderLogger } from '../types.js'
import type { UpstreamState } from './state.js'
import { Agent, request } from 'undici'
import { ProviderError } from '../types.js'
import { safeExcerpt } from './redact.js'

export interface UpstreamClientOptions {
  /** Upstream id, for messages. */
  id: string
  /** No response headers within this many seconds → UPSTREAM_TIMEOUT (also the TCP connect timeout). */
  timeoutSeconds: number
  /** No bytes for this many seconds while reading → UPSTREAM_TIMEOUT. */
  idleTimeoutSeconds: number
  /** What the credential is called in messages ("access token", "API key"). */
  credentialName: string
  /** Values that must never appear in an error message (the token, the key), as they are now. */
  secrets: () => ReadonlyArray<string | undefined>
  state: UpstreamState
  /** Told about auth failures, rate limits and unreachable upstreams (safe messages only). */
  logger?: ProviderLogger
  /** An outbound proxy's dispatcher; otherwise a direct connection pool of our own. */
  dispatcher?: Dispatcher
}

export interface UpstreamCall {
  method: Dispatcher.HttpMethod
  url: string
  headers: Record<string, string>
  body?: unknown
  signal?: AbortSignal
}

const MAX_ERROR_BODY = 64 * 1024

/** Seconds from `Retry-After` (delta seconds or an HTTP date), or ChatGPT's `clears_in` in the body. */
export function retryAfterSeconds(headers: Dispatcher.ResponseData['headers'], body: string, now = Date.now()): number | undefined {
  const raw = headers['retry-after']
  const value = Array.isArray(raw) ? raw[0] : raw
  if (value) {
    if (/^\s*\d+(?:\.\d+)?\s*$/.test(value))
      return Math.max(1, Math.ceil(Number(value)))
    const at = Date.parse(value)
    if (!Number.isNaN(at))
      return Math.max(1, Math.ceil((at - now) / 1000))
  }
  try {
    const j = JSON.parse(body) as any
    const clears = j?.detail?.clears_in ?? j?.clears_in ?? j?.error?.clears_in
    if (typeof clears === 'number' && Number.isFinite(clears) && clears > 0)
      return Math.ceil(clears)
  }
  catch {}
  return undefined
}

async function readLimited(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer
      chunks.push(b)
      size += b.length
      if (size >= MAX_ERROR_BODY) {
        body.destroy()
        break
      }
    }
  }
  catch {}
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * HTTP to one upstream through undici, with its own connection pool. Turns every failure into a
 * ProviderError with a safe message, keeps the upstream's health and cool-down, and rethrows the
 * caller's abort reason when the signal aborted (the connection is destroyed at once).
 */
export class UpstreamClient {
  private readonly agent: Dispatcher

  constructor(private readonly opts: UpstreamClientOptions) {
    this.agent = opts.dispatcher ?? new Agent({
      connect: { timeout: opts.timeoutSeconds * 1000 },
      headersTimeout: opts.timeoutSeconds * 1000,
      bodyTimeout: opts.idleTimeoutSeconds * 1000,
    })
  }

  get state(): UpstreamState {
    return this.opts.state
  }

  /** Sends a request and returns a 2xx response (body still to be read), or throws. */
  async send(call: UpstreamCall): Promise<Dispatcher.ResponseData> {
    let res: Dispatcher.ResponseData
    try {
      res = await request(call.url, {
        method: call.method,
        headers: call.headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: call.signal,
        dispatcher: this.agent,
        headersTimeout: this.opts.timeoutSeconds * 1000,
        bodyTimeout: this.opts.idleTimeoutSeconds * 1000,
      })
    }
    catch (err) {
      throw this.transportError(err, call.signal)
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      this.opts.state.markOk()
      return res
    }
    const text = await readLimited(res.body)
    throw this.statusError(res.statusCode, res.headers, text)
  }

  /** Sends a request and parses a JSON reply (empty body → undefined). */
  async json<T>(call: UpstreamCall): Promise<T> {
    const res = await this.send(call)
    let text: string
    try {
      text = await res.body.text()
    }
    catch (err) {
      throw this.transportError(err, call.signal)
    }
    if (!text.trim())
      return undefined as T
    try {
      return JSON.parse(text) as T
    }
    catch {
      throw new ProviderError('UPSTREAM_ERROR', `upstream ${this.opts.id} answered with something that is not JSON: ${safeExcerpt(text, this.opts.secrets(), 80)}`, { status: res.statusCode })
    }
  }

  excerpt(text: string, max?: number): string {
    return safeExcerpt(text, this.opts.secrets(), max)
  }

  statusError(status: number, headers: Dispatcher.ResponseData['headers'], body: string): ProviderError {
    const what = this.excerpt(body)
    const suffix = what ? `: ${what}` : ''
    if (status === 401 || status === 403) {
      const reason = `${this.opts.credentialName} rejected (HTTP ${status})`
      this.opts.state.markUnhealthy(reason, 'unauthorized')
      this.opts.logger?.warn({ upstream: this.opts.id, status }, `upstream ${reason}; marked unhealthy`)
      return new ProviderError('UPSTREAM_UNAUTHORIZED', `upstream ${this.opts.id}: ${reason}${suffix}`, { status })
    }
    if (status === 429) {
      // The pool decides how long this account rests (modules/upstreams/account.ts): the upstream's hint, or a back-off.
      const seconds = retryAfterSeconds(headers, body)
      this.opts.logger?.warn({ upstream: this.opts.id, status, retryAfterSeconds: seconds }, 'upstream rate limited')
      return new ProviderError('UPSTREAM_RATE_LIMITED', `upstream ${this.opts.id} is rate limited${seconds ? `; retry in ${seconds} s` : ''}${suffix}`, { status, ...(seconds ? { retryAfterSeconds: seconds } : {}) })
    }
    if (status >= 500)
      return new ProviderError('UPSTREAM_ERROR', `upstream ${this.opts.id} failed (HTTP ${status})${suffix}`, { status })
    return new ProviderError('UPSTREAM_ERROR', `upstream ${this.opts.id} refused the request (HTTP ${status})${suffix}`, { status })
  }

  /** Maps an undici/socket error (before or during the body) to a ProviderError; an abort rethrows the caller's reason. */
  transportError(err: unknown, signal?: AbortSignal): unknown {
    if (signal?.aborted)
      return signal.reason
    if (err instanceof ProviderError)
      return err
    const code = (err as { code?: string } | null)?.code ?? ''
    const id = this.opts.id
    switch (code) {
      case 'UND_ERR_CONNECT_TIMEOUT':
        return new ProviderError('UPSTREAM_TIMEOUT', `upstream ${id}: could not connect within ${this.opts.timeoutSeconds} s`)
      case 'UND_ERR_HEADERS_TIMEOUT':
        return new ProviderError('UPSTREAM_TIMEOUT', `upstream ${id} did not answer within ${this.opts.timeoutSeconds} s`)
      case 'UND_ERR_BODY_TIMEOUT':
        return new ProviderError('UPSTREAM_TIMEOUT', `upstream ${id} sent nothing for ${this.opts.idleTimeoutSeconds} s`)
      case 'ECONNREFUSED':
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH': {
        const reason = `cannot reach the upstream (${code})`
        this.opts.state.markUnhealthy(reason)
        this.opts.logger?.warn({ upstream: id }, reason)
        return new ProviderError('UPSTREAM_UNAVAILABLE', `upstream ${id}: ${reason}`)
      }
      case 'ERR_EGRESS_REFUSED': {
        // The SSRF guard of a dashboard-saved upstream (modules/upstreams/egress-guard.ts); its message names the address only.
        const reason = (err as Error).message
        this.opts.state.markUnhealthy(reason)
        this.opts.logger?.warn({ upstream: id }, reason)
        return new ProviderError('UPSTREAM_UNAVAILABLE', `upstream ${id}: ${reason}`)
      }
      default:
        // Logged (code only, no body) so that such failures can be told apart: e.g. a kept-alive
        // connection the upstream had just closed (UND_ERR_SOCKET) vs. a reset mid-answer.
        this.opts.logger?.warn({ upstream: id, code: code || undefined, err: (err as Error | null)?.message }, 'upstream connection closed unexpectedly')
        return new ProviderError('UPSTREAM_ERROR', `upstream ${id} closed the connection unexpectedly${code ? ` (${code})` : ''}`)
    }
  }

  async close(opts: { force?: boolean } = {}): Promise<void> {
    if (opts.force)
      await this.agent.destroy()
    else await this.agent.close()
  }
}

/** Joins a base URL and a relative path, tolerating a trailing slash on the base. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`
}
