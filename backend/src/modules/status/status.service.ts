import type { StatusResponse, UpstreamStatus } from '../../contracts/chat.js'
import type { Db } from '../../db/client.js'

export interface StatusDeps {
  db: Db
  /** Each upstream as members may see it (modules/upstreams). */
  upstreams: () => UpstreamStatus[]
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

      const upstreams = deps.upstreams()
      return {
        queueLength: upstreams.reduce((n, u) => n + u.queueLength, 0),
        inFlight: upstreams.reduce((n, u) => n + u.inFlight, 0),
        activeMembers: { last5m: within(5), last1h: within(60), last1d: within(1440) },
        upstreams,
      }
    },
  }
}
