/**
 * Alerts on accounts (docs/architecture.md, "Upstreams and accounts"; the payload in the README,
 * "Alerts"): every change of an account's state — and, for an access token with no session token
 * to refresh it, each of `alerts.expiry_warning_days` before it expires — is recorded once for the
 * dashboard's banner and POSTed to `alerts.webhook_url`, retried with back-off. Never a credential.
 */
import type { AccountAlert, AccountState } from '../../contracts/upstreams.js'
import type { Pool } from './pool.js'
import { request } from 'undici'
import { accountState } from './status.js'

const KEEP = 100
const CHECK_MS = 2000
const RETRIES_MS = [1000, 2000, 4000, 8000, 16_000]

export interface AlertsDeps {
  pools: () => Pool[]
  webhookUrl?: string
  warningDays: number[]
  now: () => Date
  logger: { warn: (obj: object, msg?: string) => void, info: (obj: object, msg?: string) => void }
}

const MESSAGES: Partial<Record<AccountState, string>> = {
  ok: 'The account works again.',
  cooling: 'The account is rate limited and rests until the time given.',
  expiring: 'The account\'s access token expires soon and has no session token to refresh it: paste a new one.',
  unauthorized: 'The upstream refused the account\'s credential: paste a new access token or key.',
  unreachable: 'The upstream cannot be reached for this account.',
  disabled: 'The account was disabled.',
}

export class AccountAlerts {
  private readonly last = new Map<string, AccountState>()
  private readonly warned = new Map<string, Set<number>>()
  private readonly items: AccountAlert[] = []
  private seq = 0
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly sending = new Set<Promise<void>>()

  constructor(private readonly deps: AlertsDeps) {}

  start(): void {
    this.check()
    this.timer = setInterval(() => this.check(), CHECK_MS)
    this.timer.unref?.()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await Promise.allSettled([...this.sending])
  }

  list(): AccountAlert[] {
    return [...this.items].reverse()
  }

  /** Compares every account's state with the last one seen; records and sends the changes. */
  check(): void {
    const now = this.deps.now().getTime()
    const warnDays = Math.max(0, ...this.deps.warningDays)
    for (const pool of this.deps.pools()) {
      for (const a of pool.accounts) {
        const key = `${pool.id}/${a.id}`
        const s = accountState(a, now, warnDays)
        const previous = this.last.get(key)
        this.last.set(key, s.state)
        if (previous === undefined && s.state === 'ok')
          continue
        if (s.state === 'expiring' && s.until !== undefined) {
          // One warning per threshold (e.g. 3 days, then 1 day before).
          const left = (s.until - now) / 86_400_000
          const done = this.warned.get(key) ?? new Set<number>()
          const due = this.deps.warningDays.filter(d => left < d && !done.has(d))
          if (!due.length && previous === 'expiring')
            continue
          for (const d of this.deps.warningDays.filter(d => left < d)) done.add(d)
          this.warned.set(key, done)
          if (!due.length)
            continue
        }
        else if (previous === s.state || (previous === undefined && s.state === 'ok')) {
          continue
        }
        this.raise({ upstreamId: pool.id, accountId: a.id, state: s.state, previous: previous ?? 'ok', until: s.until })
      }
    }
  }

  private raise(a: { upstreamId: string, accountId: string, state: AccountState, previous: AccountState, until?: number }): void {
    const alert: AccountAlert = {
      id: ++this.seq,
      at: this.deps.now().toISOString(),
      upstreamId: a.upstreamId,
      accountId: a.accountId,
      state: a.state,
      previous: a.previous,
      message: MESSAGES[a.state] ?? a.state,
      until: a.until !== undefined ? new Date(a.until).toISOString() : null,
    }
    this.items.push(alert)
    if (this.items.length > KEEP)
      this.items.shift()
    this.deps.logger.warn({ upstream: a.upstreamId, account: a.accountId, state: a.state, previous: a.previous }, 'account state changed')
    if (this.deps.webhookUrl) {
      const p = this.send(this.deps.webhookUrl, alert).finally(() => this.sending.delete(p))
      this.sending.add(p)
    }
  }

  private async send(url: string, alert: AccountAlert): Promise<void> {
    const body = JSON.stringify({ event: 'account.state', ...alert })
    for (let attempt = 0; attempt <= RETRIES_MS.length; attempt++) {
      try {
        const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'chatgpt-web-share' }, body, headersTimeout: 10_000, bodyTimeout: 10_000 })
        await res.body.dump()
        if (res.statusCode < 300)
          return
        if (res.statusCode < 500 && res.statusCode !== 429)
          break
      }
      catch {}
      const wait = RETRIES_MS[attempt]
      if (wait === undefined)
        break
      await new Promise(r => setTimeout(r, wait).unref?.())
    }
    this.deps.logger.warn({ alert: alert.id }, 'the alert webhook could not be delivered')
  }
}
