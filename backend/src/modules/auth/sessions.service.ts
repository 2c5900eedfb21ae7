import type { Session } from '../../generated/prisma/client.js'
import type { SessionCheckRow, SessionsRepository } from './sessions.repository.js'
import { randomBytes } from 'node:crypto'
import { AppError } from '../../lib/errors.js'

/** `lastSeenAt` / `User.lastActiveAt` are written at most this often per session. */
export const TOUCH_INTERVAL_MS = 60_000

export interface SessionServiceDeps {
  repo: SessionsRepository
  now: () => Date
  /** A session not used for this long ends. */
  idleMs: number
  /** A session ends this long after login. */
  maxMs: number
  /** Sessions were ended (their open streams must close): one (`sessionId`), or all but `exceptSessionId`. */
  onEnded?: (e: { userId: number, sessionId?: string, exceptSessionId?: string }) => void
}

/**
 * Server-side sessions. A token is only as good as its Session row: revoked, idle for longer than
 * `idleMs`, past `expiresAt`, or belonging to a disabled user → refused on the very next request.
 */
export function createSessionService(deps: SessionServiceDeps) {
  const { repo, now } = deps
  const idleCutoff = (t: Date): Date => new Date(t.getTime() - deps.idleMs)

  return {
    async start(userId: number, meta: { ip: string, userAgent: string }): Promise<Session> {
      const t = now()
      return repo.create({
        id: randomBytes(18).toString('base64url'),
        userId,
        now: t,
        expiresAt: new Date(t.getTime() + deps.maxMs),
        ip: meta.ip.slice(0, 64),
        userAgent: meta.userAgent.slice(0, 256),
      })
    },

    /**
     * The session's user when the session is live and the user enabled; else SESSION_EXPIRED.
     * Read from the database on every call (one indexed statement, no cache): logout, password
     * change, disabling, deletion and "log out everywhere" (in this process or by the CLI) are
     * seen by the very next request.
     */
    async resolve(sessionId: string, userId: number): Promise<{ session: SessionCheckRow, user: { id: number, username: string, role: string, enabled: boolean } }> {
      const t = now()
      const session = repo.findForCheck(sessionId)
      if (!session || session.userId !== userId)
        throw new AppError('SESSION_EXPIRED', 'Your session has ended; log in again.')
      if (session.revokedAt || session.expiresAt <= t || session.lastSeenAt <= idleCutoff(t) || !session.enabled)
        throw new AppError('SESSION_EXPIRED', 'Your session has ended; log in again.')
      if (t.getTime() - session.lastSeenAt.getTime() >= TOUCH_INTERVAL_MS) {
        await repo.touch(sessionId, userId, t)
        session.lastSeenAt = t
      }
      return { session, user: { id: userId, username: session.username, role: session.role, enabled: session.enabled } }
    },

    /** Ends one of the user's sessions; NOT_FOUND when it is not theirs or already ended. */
    async revoke(sessionId: string, userId: number): Promise<void> {
      if (!(await repo.revoke(sessionId, userId, now())))
        throw new AppError('NOT_FOUND', 'No such session.')
      deps.onEnded?.({ userId, sessionId })
    },

    /** Ends every session of the user (but `exceptId`); returns how many. */
    async revokeAll(userId: number, exceptId?: string): Promise<number> {
      const n = await repo.revokeAll(userId, now(), exceptId)
      deps.onEnded?.({ userId, exceptSessionId: exceptId })
      return n
    },

    listLive(userId: number): Promise<Session[]> {
      const t = now()
      return repo.listLive(userId, t, idleCutoff(t))
    },

    countLive(userIds: number[]): Promise<Map<number, number>> {
      const t = now()
      return repo.countLive(userIds, t, idleCutoff(t))
    },

    /** Deletes sessions that ended more than a day ago. */
    purge(): Promise<number> {
      return repo.purgeEnded(new Date(now().getTime() - 24 * 3600_000))
    },
  }
}

export type SessionService = ReturnType<typeof createSessionService>
