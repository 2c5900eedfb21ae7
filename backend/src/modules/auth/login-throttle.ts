/**
 * Failed-login throttle, in memory (one process). Two independent sliding windows:
 *
 * - per account: `maxFailures` failures within `windowMs` block further attempts on that account,
 *   from anywhere, until the oldest of them leaves the window; a correct password is refused too;
 * - per IP: `maxFailures * ipFactor` failures block that IP (for every account).
 *
 * An attempt is counted as a failure when it starts (`begin`), before the slow password check, so
 * parallel guesses cannot slip past the limit; `succeed` then takes it back. Attempts refused while
 * blocked are not counted, so hammering a blocked account does not extend the block. A success
 * clears the account's failures but not the IP's earlier ones (an attacker holding one valid
 * account cannot reset their IP budget). Other accounts and other IPs are never affected.
 * Each map holds at most `maxKeys` keys; the least recently touched go first.
 */
export interface ThrottleOptions {
  maxFailures: number
  windowMs: number
  ipFactor?: number
  maxKeys?: number
}

export interface ThrottleVerdict {
  blocked: boolean
  /** When blocked: seconds until one more attempt is allowed. */
  retryAfterSeconds: number
  scope?: 'account' | 'ip'
}

class SlidingFailures {
  private readonly map = new Map<string, number[]>()
  constructor(private readonly max: number, private readonly windowMs: number, private readonly maxKeys: number) {}

  /** Milliseconds until the key may try again, or 0. */
  blockedFor(key: string, now: number): number {
    const list = this.live(key, now)
    if (list.length < this.max)
      return 0
    return list[list.length - this.max]! + this.windowMs - now
  }

  add(key: string, now: number): void {
    const list = this.live(key, now)
    list.push(now)
    if (list.length > this.max)
      list.splice(0, list.length - this.max)
    this.map.delete(key)
    this.map.set(key, list)
    while (this.map.size > this.maxKeys) {
      const oldest = this.map.keys().next().value as string
      this.map.delete(oldest)
    }
  }

  clear(key: string): void {
    this.map.delete(key)
  }

  /** Takes back one failure recorded at `at`. */
  remove(key: string, at: number): void {
    const list = this.map.get(key)
    const i = list?.lastIndexOf(at) ?? -1
    if (list && i >= 0)
      list.splice(i, 1)
    if (list?.length === 0)
      this.map.delete(key)
  }

  private live(key: string, now: number): number[] {
    const list = this.map.get(key)
    if (!list)
      return []
    const fresh = list.filter(t => t > now - this.windowMs)
    if (fresh.length === 0)
      this.map.delete(key)
    else if (fresh.length !== list.length)
      this.map.set(key, fresh)
    return fresh
  }
}

export class LoginThrottle {
  private readonly accounts: SlidingFailures
  private readonly ips: SlidingFailures

  constructor(opts: ThrottleOptions) {
    const maxKeys = opts.maxKeys ?? 10_000
    this.accounts = new SlidingFailures(opts.maxFailures, opts.windowMs, maxKeys)
    this.ips = new SlidingFailures(opts.maxFailures * (opts.ipFactor ?? 4), opts.windowMs, maxKeys)
  }

  check(account: string, ip: string, now: number): ThrottleVerdict {
    const a = this.accounts.blockedFor(account, now)
    const i = this.ips.blockedFor(ip, now)
    if (a <= 0 && i <= 0)
      return { blocked: false, retryAfterSeconds: 0 }
    const ms = Math.max(a, i)
    return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)), scope: a >= i ? 'account' : 'ip' }
  }

  /**
   * Checks, and when not blocked counts the attempt as a failure right away. Call `succeed` with
   * the same arguments when the password was right.
   */
  begin(account: string, ip: string, now: number): ThrottleVerdict {
    const verdict = this.check(account, ip, now)
    if (!verdict.blocked) {
      this.accounts.add(account, now)
      this.ips.add(ip, now)
    }
    return verdict
  }

  succeed(account: string, ip: string, startedAt: number): void {
    this.accounts.clear(account)
    this.ips.remove(ip, startedAt)
  }

  /** Counts a failure outside a login (e.g. a wrong current password when changing it). */
  fail(account: string, ip: string, now: number): void {
    this.accounts.add(account, now)
    this.ips.add(ip, now)
  }
}
