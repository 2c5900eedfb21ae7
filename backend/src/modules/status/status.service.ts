import type { StatusResponse, UpstreamStatus } from '../../contracts/chat.js'
import type { Db } from '../../db/client.js'
import type { ProviderRegistry } from '../providers/registry.js'
import type { QueueStats } from '../queue/fair-queue.js'

export interface StatusDeps {
  db: Db
  providers: ProviderRegistry
  queueStats: (upstreamId: string) => QueueStats | undefined
  now: () => Date
}

const MINUTE = 60_000

/**
 * Queue length and in-flight asks per upstream, active members (asked, or used the app, within
 * 5 min / 1 h / 1 day), and upstream health — a reason, never a credential.
 */
export function createStatusService(deps: StatusDeps) {
  return {
    async status(): Promise<StatusResponse> {
      const now = deps.now().getTime()
      const dayAgo = new Date(now - 1440 * MINUTE)
      const [asks, sessions] = await Promise.all([
        deps.db.ask.groupBy({ by: ['userId'], where: { createdAt: { gte: dayAgo } }, _max: { createdAt: true } }),
        deps.db.session.groupBy({ by: ['userId'], where: { lastSeenAt: { gte: dayAgo } }, _max: { lastSeenAt: true } }),
      ])
      const lastActive = new Map<number, number>()
      const seen = (userId: number, at: Date | null | undefined): void => {
        if (at)
          lastActive.set(userId, Math.max(lastActive.get(userId) ?? 0, at.getTime()))
      }
      for (const a of asks) seen(a.userId, a._max.createdAt)
      for (const s of sessions) seen(s.userId, s._max.lastSeenAt)
      const within = (minutes: number): number => [...lastActive.values()].filter(t => t >= now - minutes * MINUTE).length

      const upstreams: UpstreamStatus[] = deps.providers.upstreams().map((u) => {
        const stats = deps.queueStats(u.id)
        const health = deps.providers.get(u.id)?.health() ?? { healthy: false, reason: 'not started' }
        const s: UpstreamStatus = {
          id: u.id,
          type: u.type,
          concurrency: u.concurrency ?? 1,
          queueLength: stats?.waiting ?? 0,
          inFlight: stats?.running ?? 0,
          avgServiceSeconds: Math.round((stats?.avgServiceSeconds ?? 0) * 10) / 10,
          healthy: health.healthy,
        }
        if (health.reason)
          s.reason = health.reason
        if (health.coolDownUntil && health.coolDownUntil.getTime() > now)
          s.coolDownUntil = health.coolDownUntil.toISOString()
        return s
      })
      return {
        queueLength: upstreams.reduce((n, u) => n + u.queueLength, 0),
        inFlight: upstreams.reduce((n, u) => n + u.inFlight, 0),
        activeMembers: { last5m: within(5), last1h: within(60), last1d: within(1440) },
        upstreams,
      }
    },
  }
}
