import type { UpstreamHealth } from '../types.js'

/**
 * Health of one account of an upstream, written by its provider's HTTP client and read by the pool
 * (modules/upstreams): 401/403 make it `unauthorized`, a connection failure `unreachable`, until a
 * later success. Cool-downs after a rate limit are the pool's (modules/upstreams/account.ts).
 */
export class UpstreamState {
  private healthy = true
  private kind: UpstreamHealth['kind']
  private reason: string | undefined
  private since: Date | undefined
  private checkedAt: Date | undefined

  constructor(private readonly now: () => Date = () => new Date()) {}

  health(): UpstreamHealth {
    const h: UpstreamHealth = { healthy: this.healthy }
    if (this.reason)
      h.reason = this.reason
    if (this.kind)
      h.kind = this.kind
    if (this.since)
      h.since = this.since
    if (this.checkedAt)
      h.checkedAt = this.checkedAt
    return h
  }

  markOk(): void {
    this.healthy = true
    this.reason = undefined
    this.kind = undefined
    this.since = undefined
    this.checkedAt = this.now()
  }

  markUnhealthy(reason: string, kind: 'unauthorized' | 'unreachable' = 'unreachable'): void {
    if (this.healthy || this.kind !== kind)
      this.since = this.now()
    this.healthy = false
    this.reason = reason
    this.kind = kind
    this.checkedAt = this.now()
  }
}
