/**
 * Failed-login throttle. Three sliding windows of failure times, each of `windowMs`:
 *
 * - per account AND source (the source is the client IP, or the device when the request carries a
 *   valid device cookie for that account, device-cookie.ts): `maxFailures` failures refuse that
 *   source for that account (429) until the oldest of them leaves the window. This is the only
 *   hard lock: nobody else can lock an account's owner out.
 * - per account (every source) and per IP (every account): no refusal, only a delay before the
 *   answer that doubles with each failure past a free allowance (`maxFailures` for an account,
 *   twice that for an IP), capped at `slowdownMaxMs`. A password-spraying IP or a distributed guess
 *   is slowed; the owner with the right password still gets in.
 * - a device that logged in before is neither refused nor slowed by others' failures: only its own
 *   failures count against it (per device).
 *
 * An attempt is counted as a failure when it starts (`begin`), before the slow password check, so
 * parallel guesses cannot slip past the limit; `succeed` takes it back and clears that source's
 * failures for the account. Attempts refused while locked are not counted, so hammering does not
 * extend the lock. At most `maxKeys` keys are held, the least recently touched forgotten first.
 * Every change is handed to the `store` (login-failures.repository.ts), so the counts survive a
 * restart (`load`).
 */
export interface ThrottleOptions {
  maxFailures: number
  windowMs: number
  maxKeys?: number
  /** First delay once past the free allowance; doubles per failure. */
  slowdownStepMs?: number
  slowdownMaxMs?: number
  store?: ThrottleStore
  /** A failed save (the in-memory counts still apply). */
  onError?: (err: unknown) => void
}

/** Where the attempt comes from; `device` only when its device cookie names this account. */
export interface LoginSource { ip: string, device?: string }

export interface ThrottleVerdict {
  blocked: boolean
  /** When blocked: seconds until one more attempt is allowed. */
  retryAfterSeconds: number
  /** When not blocked: how long to wait before checking the password. */
  delayMs: number
}

/** Persistence of the failure lists: `null` deletes the key. */
export interface ThrottleStore {
  save: (changes: Map<string, number[] | null>, now: number) => Promise<void>
}

/** Most failure times kept per key: past this many the delay is at its cap anyway. */
const KEEP = 64

function sourceKey(account: string, source: LoginSource | string): string {
  const s = typeof source === 'string' ? { ip: source } : source
  return s.device ? `s:${account}\nd:${s.device}` : `s:${account}\ni:${s.ip}`
}

function ipOf(source: LoginSource | string): string {
  return typeof source === 'string' ? source : source.ip
}

export class LoginThrottle {
  private readonly map = new Map<string, number[]>()
  private readonly changes = new Map<string, number[] | null>()
  private saving: Promise<void> = Promise.resolve()
  private readonly maxKeys: number
  private readonly stepMs: number
  private readonly maxMs: number

  constructor(private readonly opts: ThrottleOptions) {
    this.maxKeys = opts.maxKeys ?? 10_000
    this.stepMs = opts.slowdownStepMs ?? 250
    this.maxMs = opts.slowdownMaxMs ?? 3000
  }

  /** Takes in the lists read back from the store at start-up (oldest touched first). */
  load(rows: Array<{ key: string, times: number[] }>, now: number): void {
    for (const row of rows) {
      this.map.set(row.key, row.times.slice(-KEEP))
      this.live(row.key, now)
    }
    this.evict()
    this.flushSoon() // rows over the bound (a smaller maxKeys, a failed save) leave the store too
  }

  /** Keys held (each a row of the store). */
  get size(): number {
    return this.map.size
  }

  check(account: string, source: LoginSource | string, now: number): ThrottleVerdict {
    const { maxFailures, windowMs } = this.opts
    const own = this.live(sourceKey(account, source), now)
    if (own.length >= maxFailures) {
      const ms = own[own.length - maxFailures]! + windowMs - now
      return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)), delayMs: 0 }
    }
    if (typeof source !== 'string' && source.device)
      return { blocked: false, retryAfterSeconds: 0, delayMs: 0 }
    const byAccount = this.delay(this.live(`a:${account}`, now).length, maxFailures)
    const byIp = this.delay(this.live(`i:${ipOf(source)}`, now).length, maxFailures * 2)
    return { blocked: false, retryAfterSeconds: 0, delayMs: Math.max(byAccount, byIp) }
  }

  /**
   * Checks, and when not blocked counts the attempt as a failure right away. Call `succeed` with
   * the same arguments when the password was right.
   */
  begin(account: string, source: LoginSource | string, now: number): ThrottleVerdict {
    const verdict = this.check(account, source, now)
    if (!verdict.blocked)
      this.fail(account, source, now)
    return verdict
  }

  succeed(account: string, source: LoginSource | string, startedAt: number): void {
    this.set(sourceKey(account, source), [])
    this.remove(`a:${account}`, startedAt)
    this.remove(`i:${ipOf(source)}`, startedAt)
  }

  /** Counts a failure outside a login too (e.g. a wrong current password when changing it). */
  fail(account: string, source: LoginSource | string, now: number): void {
    for (const key of [sourceKey(account, source), `a:${account}`, `i:${ipOf(source)}`]) {
      const list = this.live(key, now)
      list.push(now)
      this.set(key, list.slice(-KEEP), true)
    }
    this.evict()
  }

  /** Settles once every change so far is in the store. */
  saved(): Promise<void> {
    this.flushSoon()
    return this.saving
  }

  private delay(failures: number, free: number): number {
    if (failures < free)
      return 0
    return Math.min(this.maxMs, this.stepMs * 2 ** Math.min(failures - free, 20))
  }

  private live(key: string, now: number): number[] {
    const list = this.map.get(key)
    if (!list)
      return []
    const fresh = list.filter(t => t > now - this.opts.windowMs)
    if (fresh.length !== list.length)
      this.set(key, fresh)
    return fresh
  }

  private remove(key: string, at: number): void {
    const list = this.map.get(key)
    const i = list?.lastIndexOf(at) ?? -1
    if (list && i >= 0)
      this.set(key, list.filter((_, j) => j !== i))
  }

  /** Stores a list (empty = forget the key); `touch` makes it the most recently used. */
  private set(key: string, list: number[], touch = false): void {
    if (list.length === 0) {
      if (!this.map.delete(key))
        return
      this.changes.set(key, null)
    }
    else {
      if (touch)
        this.map.delete(key)
      this.map.set(key, list)
      this.changes.set(key, list)
    }
    this.flushSoon()
  }

  private evict(): void {
    while (this.map.size > this.maxKeys) {
      const oldest = this.map.keys().next().value as string
      this.map.delete(oldest)
      this.changes.set(oldest, null)
    }
  }

  private scheduled = false
  private flushSoon(): void {
    const store = this.opts.store
    if (!store || this.scheduled || this.changes.size === 0)
      return
    this.scheduled = true
    this.saving = this.saving.then(async () => {
      this.scheduled = false
      const batch = new Map(this.changes)
      this.changes.clear()
      if (batch.size)
        await store.save(batch, Date.now())
    }).catch(err => this.opts.onError?.(err))
  }
}
