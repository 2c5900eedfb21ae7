import type { UpstreamHealth } from '../types.js'
import { ProviderError } from '../types.js'

/**
 * Health and 429 cool-down of one upstream. 401/403 (or an unreachable upstream) make it unhealthy
 * until a later success; a 429 holds calls back until the cool-down ends, without contacting it.
 */
export class UpstreamState {
  private healthy = true
  private reason: string | undefined
  private coolDownUntil: Date | undefined
  private checkedAt: Date | undefined

  constructor(private readonly now: () => Date = () => new Date()) {}

  health(): UpstreamHealth {
    const h: UpstreamHealth = { healthy: this.healthy }
    if (this.reason)
      h.reason = this.reason
    if (this.coolDownUntil && this.coolDownUntil > this.now())
      h.coolDownUntil = this.coolDownUntil
    if (this.checkedAt)
      h.checkedAt = this.checkedAt
    return h
  }

  /** Throws UPSTREAM_RATE_LIMITED while a cool-down runs. */
  assertNotCoolingDown(): void {
    if (!this.coolDownUntil)
      return
    const left = this.coolDownUntil.getTime() - this.now().getTime()
    if (left <= 0) {
      this.coolDownUntil = undefined
      return
    }
    const retryAfterSeconds = Math.ceil(left / 1000)
    throw new ProviderError('UPSTREAM_RATE_LIMITED', `upstream rate limit: cooling down for ${retryAfterSeconds} s`, { status: 429, retryAfterSeconds })
  }

  markOk(): void {
    this.healthy = true
    this.reason = undefined
    this.checkedAt = this.now()
  }

  markUnhealthy(reason: string): void {
    this.healthy = false
    this.reason = reason
    this.checkedAt = this.now()
  }

  coolDown(seconds: number): void {
    this.coolDownUntil = new Date(this.now().getTime() + seconds * 1000)
    this.checkedAt = this.now()
  }
}
