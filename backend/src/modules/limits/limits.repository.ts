import type { Limits, RateWindow, TimeSlot } from '../../contracts/limits.js'
import type { Db } from '../../db/client.js'
import type { ModelQuota, Prisma, UserLimits } from '../../generated/prisma/client.js'
import { randomInt } from 'node:crypto'
import { sqlOf } from '../../db/client.js'

type Tx = Db | Prisma.TransactionClient

export const DEFAULTS_SETTING_KEY = 'limits.defaults'

/**
 * A fresh version stamp for a count the admin sets. A reservation remembers the stamp of the count
 * it took a unit from; a refund gives the unit back only while the stamp is unchanged, so a count
 * set by the admin during an ask is never changed by that ask. Random, so that a row deleted and
 * created again never reuses an old stamp.
 */
export function newStamp(): number {
  return randomInt(1, 2 ** 31 - 1)
}

export interface UserWithLimits {
  id: number
  role: string
  enabled: boolean
  limits: UserLimits | null
}

export interface LimitsColumns {
  enabled?: boolean
  validUntil?: Date | null
  allowedModels?: string[] | null
  maxConversations?: number
  totalAsks?: number
  maxInFlight?: number
  rateWindows?: RateWindow[]
  timeSlots?: TimeSlot[]
  shareWeight?: number
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === 'P2002'
}

interface RawLimitsRow {
  id: number
  role: string
  userEnabled: number
  hasLimits: number | null
  enabled: number
  validUntil: string | null
  allowedModels: string | null
  maxConversations: number
  totalAsks: number
  totalAsksGen: number
  maxInFlight: number
  rateWindows: string
  timeSlots: string
  shareWeight: number
  updatedAt: string
}

/** The only code that touches UserLimits, ModelQuota and the limits setting. */
export function createLimitsRepository(db: Db) {
  const sql = sqlOf(db)
  return {
    /**
     * Synchronous reads for the quota gate's admission block (db/sql.ts; call inside `sql.write`
     * so that what is read and what is reserved form one transaction).
     */
    sync: {
      /** The user with their limits row (null limits when they have none yet); null for an unknown user. */
      findUser(userId: number): UserWithLimits | null {
        const r = sql.get<RawLimitsRow>(
          'SELECT u."id", u."role", u."enabled" AS "userEnabled", l."userId" AS "hasLimits", l."enabled", l."validUntil", l."allowedModels", l."maxConversations", l."totalAsks", l."totalAsksGen", l."maxInFlight", l."rateWindows", l."timeSlots", l."shareWeight", l."updatedAt" FROM "User" u LEFT JOIN "UserLimits" l ON l."userId" = u."id" WHERE u."id" = ?',
          userId,
        )
        if (!r)
          return null
        const limits: UserLimits | null = r.hasLimits === null
          ? null
          : {
              userId: r.id,
              enabled: !!r.enabled,
              validUntil: r.validUntil === null ? null : new Date(r.validUntil),
              allowedModels: r.allowedModels,
              maxConversations: r.maxConversations,
              totalAsks: r.totalAsks,
              totalAsksGen: r.totalAsksGen,
              maxInFlight: r.maxInFlight,
              rateWindows: r.rateWindows,
              timeSlots: r.timeSlots,
              shareWeight: r.shareWeight,
              updatedAt: new Date(r.updatedAt),
            }
        return { id: r.id, role: r.role, enabled: !!r.userEnabled, limits }
      },

      modelQuotas(userId: number): ModelQuota[] {
        return sql.all<ModelQuota>('SELECT "userId", "model", "remaining", "gen" FROM "ModelQuota" WHERE "userId" = ? ORDER BY "model" ASC', userId)
      },

      /** As `createQuotaIfMissing` (inside a write block). */
      createQuotaIfMissing(userId: number, model: string, remaining: number): void {
        sql.run('INSERT INTO "ModelQuota" ("userId", "model", "remaining", "gen") VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', userId, model, remaining, newStamp())
      },

      countConversations(userId: number): number {
        return sql.get<{ n: number }>('SELECT count(*) AS "n" FROM "Conversation" WHERE "userId" = ?', userId)!.n
      },

      /** As `windowAsks`, for one model. */
      windowAsks(userId: number, since: Date, model: string): Date[] {
        return sql.all<{ createdAt: string }>(
          'SELECT "createdAt" FROM "Ask" WHERE "userId" = ? AND "model" = ? AND "createdAt" > ? AND "quota" = \'committed\' UNION ALL SELECT "createdAt" FROM "QuotaHold" WHERE "userId" = ? AND "model" = ? AND "createdAt" > ?',
          userId,
          model,
          since,
          userId,
          model,
          since,
        ).map(r => new Date(r.createdAt))
      },

      readSetting(key: string): unknown {
        const row = sql.get<{ value: string }>('SELECT "value" FROM "Setting" WHERE "key" = ?', key)
        if (!row)
          return undefined
        try {
          return JSON.parse(row.value) as unknown
        }
        catch {
          return undefined
        }
      },
    },

    findUser(userId: number, tx: Tx = db): Promise<UserWithLimits | null> {
      return tx.user.findUnique({ where: { id: userId }, select: { id: true, role: true, enabled: true, limits: true } })
    },

    async existingUserIds(ids: number[], tx: Tx = db): Promise<number[]> {
      const rows = await tx.user.findMany({ where: { id: { in: ids } }, select: { id: true } })
      return rows.map(r => r.id)
    },

    /** Creates the member's limits from a template unless they exist (then nothing changes). */
    async createIfMissing(userId: number, l: Limits, now: Date, tx: Tx = db): Promise<boolean> {
      try {
        await tx.userLimits.create({
          data: {
            userId,
            enabled: l.enabled,
            validUntil: l.validUntil ? new Date(l.validUntil) : null,
            allowedModels: l.allowedModels ? JSON.stringify(l.allowedModels) : null,
            maxConversations: l.maxConversations,
            totalAsks: l.totalAsks,
            totalAsksGen: newStamp(),
            maxInFlight: l.maxInFlight,
            rateWindows: JSON.stringify(l.rateWindows),
            timeSlots: JSON.stringify(l.timeSlots),
            shareWeight: l.shareWeight,
            updatedAt: now,
          },
        })
      }
      catch (err) {
        if (isUniqueViolation(err))
          return false
        throw err
      }
      for (const [model, remaining] of Object.entries(l.modelAsks))
        await this.createQuotaIfMissing(userId, model, remaining, tx)
      return true
    },

    modelQuotas(userId: number, tx: Tx = db): Promise<ModelQuota[]> {
      return tx.modelQuota.findMany({ where: { userId }, orderBy: { model: 'asc' } })
    },

    modelQuota(userId: number, model: string, tx: Tx = db): Promise<ModelQuota | null> {
      return tx.modelQuota.findUnique({ where: { userId_model: { userId, model } } })
    },

    /** Materialises a per-model count (from the default) unless the member has one already. */
    async createQuotaIfMissing(userId: number, model: string, remaining: number, tx: Tx = db): Promise<void> {
      try {
        await tx.modelQuota.create({ data: { userId, model, remaining, gen: newStamp() } })
      }
      catch (err) {
        if (!isUniqueViolation(err))
          throw err
      }
    },

    /**
     * Writes only the columns given — never a read-modify-write of the whole row, so concurrent
     * reservations (which touch only totalAsks through conditional UPDATEs) are not overwritten.
     * Setting totalAsks gives it a new stamp.
     */
    async updateColumns(userId: number, c: LimitsColumns, now: Date, tx: Tx = db): Promise<void> {
      const data: Prisma.UserLimitsUpdateInput = { updatedAt: now }
      if (c.enabled !== undefined)
        data.enabled = c.enabled
      if (c.validUntil !== undefined)
        data.validUntil = c.validUntil
      if (c.allowedModels !== undefined)
        data.allowedModels = c.allowedModels === null ? null : JSON.stringify(c.allowedModels)
      if (c.maxConversations !== undefined)
        data.maxConversations = c.maxConversations
      if (c.totalAsks !== undefined) {
        data.totalAsks = c.totalAsks
        data.totalAsksGen = newStamp()
      }
      if (c.maxInFlight !== undefined)
        data.maxInFlight = c.maxInFlight
      if (c.rateWindows !== undefined)
        data.rateWindows = JSON.stringify(c.rateWindows)
      if (c.timeSlots !== undefined)
        data.timeSlots = JSON.stringify(c.timeSlots)
      if (c.shareWeight !== undefined)
        data.shareWeight = c.shareWeight
      await tx.userLimits.update({ where: { userId }, data })
    },

    /** Sets one per-model count (new stamp), or removes it (null: the default applies again). */
    async setModelAsks(userId: number, model: string, remaining: number | null, tx: Tx = db): Promise<void> {
      if (remaining === null) {
        await tx.modelQuota.deleteMany({ where: { userId, model } })
        return
      }
      const gen = newStamp()
      await tx.modelQuota.upsert({
        where: { userId_model: { userId, model } },
        create: { userId, model, remaining, gen },
        update: { remaining, gen },
      })
    },

    countConversations(userId: number, tx: Tx = db): Promise<number> {
      return tx.conversation.count({ where: { userId } })
    },

    /**
     * What rolling windows count, of one member since `since`: committed asks plus open
     * reservations (QuotaHold rows, which exist exactly while an ask is "reserved" — also before the
     * chat engine has written its Ask row). Refunded asks don't count.
     */
    async windowAsks(userId: number, since: Date, model?: string, tx: Tx = db): Promise<Array<{ model: string, createdAt: Date }>> {
      const where = { userId, ...(model ? { model } : {}), createdAt: { gt: since } }
      const [committed, holds] = await Promise.all([
        tx.ask.findMany({ where: { ...where, quota: 'committed' }, select: { model: true, createdAt: true } }),
        tx.quotaHold.findMany({ where, select: { model: true, createdAt: true } }),
      ])
      return [...committed, ...holds]
    },

    async readSetting(key: string, tx: Tx = db): Promise<unknown> {
      const row = await tx.setting.findUnique({ where: { key } })
      if (!row)
        return undefined
      try {
        return JSON.parse(row.value) as unknown
      }
      catch {
        return undefined
      }
    },

    async writeSetting(key: string, value: unknown, tx: Tx = db): Promise<void> {
      const json = JSON.stringify(value)
      await tx.setting.upsert({ where: { key }, create: { key, value: json }, update: { value: json } })
    },
  }
}

export type LimitsRepository = ReturnType<typeof createLimitsRepository>
