import type { Db } from '../../db/client.js'
import type { Prisma, Session } from '../../generated/prisma/client.js'
import { sqlOf } from '../../db/client.js'

type Tx = Db | Prisma.TransactionClient

/** What the per-request check needs of a session and its user. */
export interface SessionCheckRow {
  userId: number
  lastSeenAt: Date
  expiresAt: Date
  revokedAt: Date | null
  username: string
  role: string
  enabled: boolean
}

interface RawCheckRow { userId: number, lastSeenAt: string, expiresAt: string, revokedAt: string | null, username: string, role: string, enabled: number }

/** The only code that touches the Session table. */
export function createSessionsRepository(db: Db) {
  // The two statements every authenticated request may run: plain SQL on Prisma's connection
  // (db/sql.ts), always read from the database, so a revocation is seen by the very next request.
  const sql = sqlOf(db)
  return {
    /** Opens a session; logging in counts as activity of the user. */
    async create(data: { id: string, userId: number, now: Date, expiresAt: Date, ip: string, userAgent: string }, tx: Tx = db): Promise<Session> {
      const session = await tx.session.create({
        data: { id: data.id, userId: data.userId, createdAt: data.now, lastSeenAt: data.now, expiresAt: data.expiresAt, ip: data.ip, userAgent: data.userAgent },
      })
      await tx.user.update({ where: { id: data.userId }, data: { lastActiveAt: data.now } })
      return session
    },

    /** The session with the fields of its user the check needs (one indexed read). */
    findForCheck(id: string): SessionCheckRow | null {
      const r = sql.get<RawCheckRow>(
        'SELECT s."userId", s."lastSeenAt", s."expiresAt", s."revokedAt", u."username", u."role", u."enabled" FROM "Session" s JOIN "User" u ON u."id" = s."userId" WHERE s."id" = ?',
        id,
      )
      if (!r)
        return null
      return {
        userId: r.userId,
        lastSeenAt: new Date(r.lastSeenAt),
        expiresAt: new Date(r.expiresAt),
        revokedAt: r.revokedAt === null ? null : new Date(r.revokedAt),
        username: r.username,
        role: r.role,
        enabled: !!r.enabled,
      }
    },

    /** Marks the session (and its user) as seen now (as Prisma's update did, the user's updatedAt too). */
    async touch(id: string, userId: number, now: Date): Promise<void> {
      await sql.write(() => {
        sql.run('UPDATE "Session" SET "lastSeenAt" = ? WHERE "id" = ?', now, id)
        sql.run('UPDATE "User" SET "lastActiveAt" = ?, "updatedAt" = ? WHERE "id" = ?', now, now, userId)
      })
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
