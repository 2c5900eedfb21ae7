/**
 * One fair queue per upstream, created on first use and kept in step with the upstream's
 * concurrency and cool-down. On a settings reload a removed upstream's waiting asks end with
 * UPSTREAM_UNAVAILABLE (running ones finish) and a new concurrency applies at once.
 */
import type { UpstreamConfig } from '../../config/schema.js'
import type { QueueStats } from '../queue/fair-queue.js'
import { AppError } from '../../lib/errors.js'
import { FairQueue } from '../queue/fair-queue.js'

export interface UpstreamQueuesOptions {
  maxDepth: () => number
  maxWaitSeconds: () => number
  /** Until when (epoch ms) an upstream must not be called. */
  coolDownUntil: (upstreamId: string) => number | undefined
}

export class UpstreamQueues {
  private readonly queues = new Map<string, FairQueue>()

  constructor(private readonly opts: UpstreamQueuesOptions) {}

  queueFor(upstream: UpstreamConfig): FairQueue {
    const concurrency = upstream.concurrency ?? 1
    let q = this.queues.get(upstream.id)
    if (!q) {
      q = new FairQueue({
        concurrency,
        maxDepth: this.opts.maxDepth(),
        maxWaitMs: this.opts.maxWaitSeconds() * 1000,
        coolDownUntil: () => this.opts.coolDownUntil(upstream.id),
      })
      this.queues.set(upstream.id, q)
    }
    else if (q.stats().concurrency !== concurrency) {
      q.setConcurrency(concurrency)
    }
    return q
  }

  stats(upstreamId: string): QueueStats | undefined {
    return this.queues.get(upstreamId)?.stats()
  }

  /** The upstreams changed (settings hot-reload). */
  reconcile(upstreams: UpstreamConfig[]): void {
    const byId = new Map(upstreams.map(u => [u.id, u]))
    for (const [id, q] of this.queues) {
      const u = byId.get(id)
      if (!u) {
        q.close(new AppError('UPSTREAM_UNAVAILABLE', 'The administrator removed this upstream; ask again with another model.'))
        this.queues.delete(id)
      }
      else if (q.stats().concurrency !== (u.concurrency ?? 1)) {
        q.setConcurrency(u.concurrency ?? 1)
      }
    }
  }

  close(): void {
    for (const q of this.queues.values()) q.close()
  }
}
