import type { Db } from '../../db/client.js'
import type { Prisma, Session, User } from '../../generated/prisma/client.js'

type Tx = Db | Prisma.TransactionClient

/** The only code that touches the Session table. */
export function createSessionsRepository(db: Db) {
  return {
    /** Opens a session; logging in counts as activity of the user. */
    async create(data: { id: string, userId: number, now: Date, expiresAt: Date, ip: string, userAgent: string }, tx: Tx = db): Promise<Session> {
      const session = await tx.session.create({
        data: { id: data.id, userId: data.userId, createdAt: data.now, lastSeenAt: data.now, expiresAt: data.expiresAt, ip: data.ip, userAgent: data.userAgent },
      })
      await tx.user.update({ where: { id: data.userId }, data: { lastActiveAt: data.now } })
      return session
    },

    findWithUser(id: string, tx: Tx = db): Promise<(Session & { user: User }) | null> {
      return tx.session.findUnique({ where: { id }, include: { user: true } })
    },

    /** Marks the session (and its user) as seen now. */
    async touch(id: string, userId: number, now: Date, tx: Tx = db): Promise<void> {
      await tx.session.update({ where: { id }, data: { lastSeenAt: now } })
      await tx.user.update({ where: { id: userId }, data: { lastActiveAt: now } })
    },

    /** Revokes one session of `userId`; false when there is no such live-or-not session of theirs. */
    async revoke(id: string, userId: number, now: Date, tx: Tx = db): Promise<boolean> {
      const { count } = await tx.session.updateMany({ where: { id, userId, revokedAt: null }, data: { revokedAt: now } })
      return count > 0
    },

    /** Revokes every session of the user except `exceptId`; returns how many were live-or-idle. */
    async revokeAll(userId: number, now: Date, exceptId?: string, tx: Tx = db): Promise<number> {
      const { count } = await tx.session.updateMany({
        where: { userId, revokedAt: null, expiresAt: { gt: now }, ...(exceptId ? { id: { not: exceptId } } : {}) },
        data: { revokedAt: now },
      })
      return count
    },

    /** Sessions that are neither revoked, past their absolute end, nor idle since `idleCutoff`. */
    listLive(userId: number, now: Date, idleCutoff: Date, tx: Tx = db): Promise<Session[]> {
      return tx.session.findMany({
        where: { userId, revokedAt: null, expiresAt: { gt: now }, lastSeenAt: { gt: idleCutoff } },
        orderBy: { lastSeenAt: 'desc' },
      })
    },

    /** Live session counts per user, for the admin list. */
    async countLive(userIds: number[], now: Date, idleCutoff: Date, tx: Tx = db): Promise<Map<number, number>> {
      if (userIds.length === 0)
        return new Map()
      const rows = await tx.session.groupBy({
        by: ['userId'],
        where: { userId: { in: userIds }, revokedAt: null, expiresAt: { gt: now }, lastSeenAt: { gt: idleCutoff } },
        _count: { _all: true },
      })
      return new Map(rows.map(r => [r.userId, r._count._all]))
    },

    /** Removes sessions that ended long ago (housekeeping). */
    async purgeEnded(before: Date, tx: Tx = db): Promise<number> {
      const { count } = await tx.session.deleteMany({ where: { OR: [{ expiresAt: { lt: before } }, { revokedAt: { lt: before } }] } })
      return count
    },
  }
}

export type SessionsRepository = ReturnType<typeof createSessionsRepository>
