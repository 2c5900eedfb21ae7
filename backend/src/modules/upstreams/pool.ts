/**
 * The pool of one upstream: its accounts and its one fair queue. A waiting ask goes, in
 * round-robin order across members, to the least busy account that may take it now (enabled, not
 * refused, not cooling down for that model, within its cap and pacing, with a free slot); an ask
 * pinned to an account (a ChatGPT web conversation) waits for that one. See docs/architecture.md,
 * "Upstreams and accounts".
 */
import type { UpstreamConfig } from '../../config/schema.js'
import type { UpstreamStatus } from '../../contracts/chat.js'
import type { Place, QueueBlock, QueueStats, Slot, SlotNeeds } from '../queue/fair-queue.js'
import type { Account, Unavailable } from './account.js'
import { AppError } from '../../lib/errors.js'
import { FairQueue } from '../queue/fair-queue.js'

export interface PoolOptions {
  maxDepth: number
  maxWaitMs: number
  now: () => number
}

export class Pool {
  readonly queue: FairQueue

  private byId = new Map<string, Account>()

  constructor(public upstream: UpstreamConfig, public accounts: Account[], opts: PoolOptions) {
    this.byId = new Map(accounts.map(a => [a.id, a]))
    this.queue = new FairQueue({
      concurrency: this.capacity(),
      maxDepth: opts.maxDepth,
      maxWaitMs: opts.maxWaitMs,
      now: opts.now,
      place: needs => this.place(needs),
      capacity: () => this.capacity(),
      nextChange: () => this.nextChange(),
      blockedBy: needs => this.blocked(needs.model, needs.pin),
    })
  }

  /** The upstream's settings or accounts changed (hot reload): waiting asks keep their places; new slots start them. */
  update(upstream: UpstreamConfig, accounts: Account[]): void {
    this.upstream = upstream
    this.accounts = accounts
    this.byId = new Map(accounts.map(a => [a.id, a]))
    this.queue.setConcurrency(this.capacity())
  }

  get id(): string {
    return this.upstream.id
  }

  account(id: string | null | undefined): Account | undefined {
    return id ? this.byId.get(id) : undefined
  }

  /** Slots of the accounts that could take an ask at all (enabled; refused ones only when all are). */
  capacity(): number {
    const enabled = this.accounts.filter(a => a.config.enabled !== false)
    const usable = enabled.some(a => !a.refused) ? enabled.filter(a => !a.refused) : enabled
    return usable.reduce((n, a) => n + a.config.concurrency, 0)
  }

  /** Another enabled account whose credential was not refused, besides `except`. */
  hasSound(except?: string): boolean {
    return this.accounts.some(a => a.id !== except && a.config.enabled !== false && !a.refused)
  }

  hold(): Place {
    return this.queue.hold()
  }

  stats(): QueueStats {
    return this.queue.stats()
  }

  /** Why an ask for `model` (on `pin`, if given) cannot start now; undefined when one could. */
  blocked(model: string | undefined, pin?: string): QueueBlock | undefined {
    const candidates = (pin ? [this.byId.get(pin)].filter(a => !!a) : this.accounts).filter(a => pin || !this.hasSound() || !a.refused)
    const reasons = candidates.map(a => a.unavailable(model))
    if (reasons.includes(undefined))
      return undefined
    const timed = reasons.filter((r): r is Extract<Unavailable, { until: number }> => !!r && 'until' in r)
    if (reasons.some(r => r?.why === 'busy'))
      return { why: 'busy' }
    if (!timed.length)
      return { why: 'down' }
    const first = timed.reduce((a, b) => (a.until <= b.until ? a : b))
    return { why: first.why === 'capped' ? 'capped' : first.why === 'paced' ? 'paced' : 'cooling', until: first.until }
  }

  private place(needs: SlotNeeds): Slot | undefined {
    let best: Account | undefined
    const candidates = needs.pin ? [this.byId.get(needs.pin)] : this.accounts
    // A refused account (401/403) is tried only when no sound account is enabled (it may have recovered).
    const avoidRefused = !needs.pin && this.hasSound()
    for (const a of candidates) {
      if (!a || a.unavailable(needs.model) || (avoidRefused && a.refused))
        continue
      if (!best || a.running / a.config.concurrency < best.running / best.config.concurrency)
        best = a
    }
    if (!best)
      return undefined
    const account = best
    account.start(needs.model)
    return {
      account: account.id,
      release: ({ produced, rateLimited }) => account.finish(needs.model, { produced: !!produced && !rateLimited, rateLimited }),
    }
  }

  /** When an account may next become usable (a cool-down, cap window or pacing gap ends). */
  private nextChange(): number | undefined {
    let at: number | undefined
    for (const a of this.accounts) {
      const t = a.nextChange(undefined)
      if (t !== undefined && (at === undefined || t < at))
        at = t
    }
    // Per-model cool-downs and caps: try again at the earliest of them too.
    for (const a of this.accounts) {
      for (const m of this.upstream.models ?? []) {
        const t = a.nextChange(m.key)
        if (t !== undefined && (at === undefined || t < at))
          at = t
      }
    }
    return at
  }

  /** The upstream as members see it in `/api/status`: no URL, no credential, no account names. */
  statusView(): UpstreamStatus {
    const stats = this.stats()
    const healths = this.accounts.filter(a => a.config.enabled !== false).map(a => a.state.health())
    const healthy = healths.some(h => h.healthy)
    const s: UpstreamStatus = {
      id: this.id,
      type: this.upstream.type,
      concurrency: this.capacity(),
      queueLength: stats.waiting,
      inFlight: stats.running,
      avgServiceSeconds: Math.round(stats.avgServiceSeconds * 10) / 10,
      healthy,
    }
    if (!healthy)
      s.reason = healths.find(h => h.reason)?.reason ?? 'no account is enabled'
    const cooling = this.accounts.map(a => a.coolingUntil()).filter((t): t is number => t !== undefined)
    if (cooling.length && cooling.length === this.accounts.filter(a => a.config.enabled !== false).length)
      s.coolDownUntil = new Date(Math.min(...cooling)).toISOString()
    return s
  }

  /** Waiting asks of a removed upstream end with this error (running ones finish). */
  close(reason: unknown = new AppError('UPSTREAM_UNAVAILABLE', 'The administrator removed this upstream; ask again with another model.')): void {
    this.queue.close(reason)
  }
}
