/**
 * What the admin and the members see of accounts and pools, derived from the accounts' own state
 * (account.ts) each time it is asked: nothing here is kept.
 */
import type { AccountState, AccountStatus, ModelPool } from '../../contracts/upstreams.js'
import type { Account } from './account.js'
import type { CapShare } from './cap-share.js'
import type { Pool } from './pool.js'
import { groupCapOf, shareView } from './cap-share.js'

const DAY_MS = 86_400_000

export function accountState(a: Account, now: number, warnDays: number): { state: AccountState, since?: Date, until?: number } {
  if (a.config.enabled === false)
    return { state: 'disabled' }
  const h = a.state.health()
  if (!h.healthy)
    return { state: h.kind === 'unauthorized' ? 'unauthorized' : 'unreachable', since: h.since }
  const cooling = a.coolingUntil()
  if (cooling !== undefined)
    return { state: 'cooling', until: cooling }
  const exp = a.keeper?.expiresAt()?.getTime()
  if (exp !== undefined && !a.keeper?.canRefresh && exp - now < warnDays * DAY_MS)
    return { state: 'expiring', until: exp }
  return { state: 'ok' }
}

const iso = (t: number | Date | undefined): string | null => (t === undefined ? null : new Date(t).toISOString())

export function accountStatus(pool: Pool, a: Account, now: number, warnDays: number): AccountStatus {
  const s = accountState(a, now, warnDays)
  return {
    upstreamId: pool.id,
    accountId: a.id,
    type: pool.upstream.type,
    state: s.state,
    since: iso(s.since),
    until: iso(s.until),
    lastError: a.keeper?.lastError ?? a.state.health().reason ?? null,
    tokenExpiresAt: iso(a.keeper?.expiresAt()),
    canRefresh: !!a.keeper?.canRefresh,
    running: a.running,
    concurrency: a.config.concurrency,
    proxied: !!a.config.proxy,
    caps: Object.keys(a.config.caps ?? {}).map((model) => {
      const c = a.cap(model)!
      return { model, asks: c.asks, hours: c.hours, used: c.used, ...(c.learned !== undefined ? { learned: c.learned } : {}), resetsAt: iso(c.resetsAt) }
    }),
  }
}

/**
 * A model's pool as a member sees it: can it answer now, until when not, what the group has left
 * of the accounts' caps, and the member's own part of it while it is split (`share`, cap-share.ts).
 */
export function modelPool(pool: Pool, model: string, share?: CapShare): ModelPool {
  const block = pool.blocked(model)
  const fallback = pool.upstream.models?.find(m => m.key === model)?.fallback ?? null
  const cap = groupCapOf(pool, model)
  const groupCap: ModelPool['groupCap'] = cap ? { remaining: cap.remaining, total: cap.total, resetsAt: iso(cap.resetsAt) } : null
  const enabled = pool.accounts.filter(a => a.config.enabled !== false)
  if (!enabled.length || enabled.every(a => !a.state.health().healthy))
    return { state: 'down', until: null, groupCap, share: shareView(share), fallback }
  const state: ModelPool['state'] = !block || block.why === 'busy' || block.why === 'paced' ? 'ok' : block.why === 'down' ? 'down' : block.why
  return { state, until: state === 'ok' ? null : iso(block?.until), groupCap, share: shareView(share), fallback }
}
