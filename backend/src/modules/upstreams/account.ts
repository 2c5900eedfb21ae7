/**
 * One account (or API key) of an upstream's pool, at run time: its provider, its health (the one
 * `UpstreamState` its provider also writes), and what decides whether it may start an ask now —
 * free slots, cool-downs per model after a rate limit, its own cap per model in a rolling window,
 * and pacing. See docs/architecture.md, "Upstreams and accounts".
 */
import type { AccountConfig, PacingConfig } from '../../config/schema.js'
import type { UpstreamState } from '../providers/shared/state.js'
import type { Provider } from '../providers/types.js'
import type { TokenKeeper } from './tokens.js'

/** Why an account cannot take an ask right now. */
export type Unavailable
  = | { why: 'disabled' }
    | { why: 'busy' }
    | { why: 'cooling', until: number }
    | { why: 'capped', until: number }
    | { why: 'paced', until: number }

/** Rate limit with no hint from the upstream: 30 s, doubling, at most 30 min. */
const BACKOFF_FIRST_MS = 30_000
const BACKOFF_MAX_MS = 30 * 60_000
const ANY_MODEL = '*'

export interface CapView { asks: number, hours: number, used: number, learned?: number, resetsAt?: number }

export class Account {
  running = 0
  /** Cool-down ends (epoch ms) by model key; `*` = every model (an API key's rate limit). */
  private readonly cooldowns = new Map<string, number>()
  private readonly backoffMs = new Map<string, number>()
  /** Start times (epoch ms) of the asks counted against each model's cap, oldest first. */
  private readonly used = new Map<string, number[]>()
  /** A cap the upstream showed to be lower than configured, until its window passes. */
  private readonly learned = new Map<string, { asks: number, until: number }>()
  private readonly starts: number[] = []
  private nextAllowedAt = 0
  /** ChatGPT web: the access token's life (expiry, refresh with a session token). */
  keeper: TokenKeeper | undefined

  constructor(
    readonly config: AccountConfig & { concurrency: number },
    readonly provider: Provider,
    readonly state: UpstreamState,
    private readonly now: () => number,
    private readonly random: () => number = Math.random,
  ) {}

  get id(): string {
    return this.config.id
  }

  /** The upstream refused its credential (401/403) and no success came since: used only when no other account can. */
  get refused(): boolean {
    return this.state.health().kind === 'unauthorized'
  }

  private get pacing(): PacingConfig | undefined {
    return this.config.pacing
  }

  /** Undefined when the account may start an ask for `model` now. */
  unavailable(model: string | undefined): Unavailable | undefined {
    if (this.config.enabled === false)
      return { why: 'disabled' }
    const now = this.now()
    const cooling = Math.max(this.cooldowns.get(ANY_MODEL) ?? 0, model ? this.cooldowns.get(model) ?? 0 : 0)
    if (cooling > now)
      return { why: 'cooling', until: cooling }
    const capped = model ? this.capFreesAt(model) : undefined
    if (capped !== undefined)
      return { why: 'capped', until: capped }
    if (this.running >= this.config.concurrency)
      return { why: 'busy' }
    const paced = this.pacedUntil()
    if (paced > now)
      return { why: 'paced', until: paced }
    return undefined
  }

  /** An ask starts here now: counted against the cap and the pacing. */
  start(model: string | undefined): void {
    const now = this.now()
    this.running++
    if (model && this.config.caps?.[model])
      this.usedList(model).push(now)
    const p = this.pacing
    if (p) {
      this.starts.push(now)
      while (this.starts.length && this.starts[0]! <= now - 60_000) this.starts.shift()
      const gap = (p.min_gap_seconds ?? 0) * 1000 + (p.jitter_seconds ? this.random() * p.jitter_seconds * 1000 : 0)
      this.nextAllowedAt = now + gap
    }
  }

  /** The ask ended. One that produced nothing does not count against the cap. */
  finish(model: string | undefined, outcome: { produced: boolean, rateLimited?: { retryAfterSeconds?: number } }): void {
    this.running = Math.max(0, this.running - 1)
    if (model && !outcome.produced) {
      const list = this.used.get(model)
      list?.pop()
    }
    if (outcome.rateLimited)
      this.rateLimited(model, outcome.rateLimited.retryAfterSeconds)
    else if (outcome.produced)
      this.backoffMs.clear()
  }

  /** A rate limit (or the account's cap message): rest until `retryAfterSeconds`, else back off exponentially. */
  rateLimited(model: string | undefined, retryAfterSeconds?: number): void {
    const key = model && this.config.caps?.[model] ? model : (model && this.provider.type === 'chatgpt-web' ? model : ANY_MODEL)
    let ms: number
    if (retryAfterSeconds !== undefined) {
      ms = retryAfterSeconds * 1000
    }
    else {
      ms = Math.min(BACKOFF_MAX_MS, (this.backoffMs.get(key) ?? BACKOFF_FIRST_MS / 2) * 2)
      this.backoffMs.set(key, ms)
    }
    const until = this.now() + ms
    this.cooldowns.set(key, until)
    // The upstream says the cap is reached before our count got there: that is the real cap for now.
    const cap = model ? this.config.caps?.[model] : undefined
    if (cap && model) {
      const used = this.inWindow(model).length
      if (used < cap.asks)
        this.learned.set(model, { asks: Math.max(1, used), until: Math.max(until, this.now() + cap.hours * 3600_000) })
    }
  }

  /** Earliest time something here may change for `model` (a cool-down, the cap or pacing ends). */
  nextChange(model: string | undefined): number | undefined {
    const u = this.unavailable(model)
    return u && 'until' in u ? u.until : undefined
  }

  /** Asks started at these times count against the cap (what was used before a restart). */
  restoreUsage(model: string, startedAt: number[]): void {
    this.usedList(model).push(...startedAt.sort((a, b) => a - b))
  }

  cap(model: string): CapView | undefined {
    const cap = this.config.caps?.[model]
    if (!cap)
      return undefined
    const used = this.inWindow(model)
    const learned = this.learned.get(model)
    const view: CapView = { asks: cap.asks, hours: cap.hours, used: used.length }
    if (learned && learned.until > this.now())
      view.learned = learned.asks
    if (used.length)
      view.resetsAt = used[0]! + cap.hours * 3600_000
    return view
  }

  coolingUntil(model?: string): number | undefined {
    const t = Math.max(this.cooldowns.get(ANY_MODEL) ?? 0, model ? this.cooldowns.get(model) ?? 0 : Math.max(0, ...this.cooldowns.values()))
    return t > this.now() ? t : undefined
  }

  private usedList(model: string): number[] {
    let list = this.used.get(model)
    if (!list) {
      list = []
      this.used.set(model, list)
    }
    return list
  }

  /** Starts still inside the cap's window (older ones are dropped). */
  private inWindow(model: string): number[] {
    const cap = this.config.caps?.[model]
    const list = this.usedList(model)
    if (!cap)
      return list
    const since = this.now() - cap.hours * 3600_000
    while (list.length && list[0]! <= since) list.shift()
    return list
  }

  /** When the cap lets one more ask start (undefined: it does now). */
  private capFreesAt(model: string): number | undefined {
    const cap = this.config.caps?.[model]
    if (!cap)
      return undefined
    const used = this.inWindow(model)
    const learned = this.learned.get(model)
    const limit = learned && learned.until > this.now() ? Math.min(cap.asks, learned.asks) : cap.asks
    if (used.length < limit)
      return undefined
    const windowMs = cap.hours * 3600_000
    const freesAt = used[used.length - limit]! + windowMs
    return learned && learned.until > this.now() ? Math.max(freesAt, learned.until) : freesAt
  }

  private pacedUntil(): number {
    const p = this.pacing
    if (!p)
      return 0
    let at = this.nextAllowedAt
    if (p.per_minute && this.starts.length >= p.per_minute) {
      const now = this.now()
      while (this.starts.length && this.starts[0]! <= now - 60_000) this.starts.shift()
      if (this.starts.length >= p.per_minute)
        at = Math.max(at, this.starts[this.starts.length - p.per_minute]! + 60_000)
    }
    return at
  }
}
