import type { Db } from '../../db/client.js'
import type { Prisma, QuotaHold } from '../../generated/prisma/client.js'

type Tx = Db | Prisma.TransactionClient

/** One transaction: short (a handful of statements), and long waits for the SQLite lock tolerated. */
const TX = { maxWait: 10_000, timeout: 10_000 } as const

export interface ReserveInput {
  askId: string
  userId: number
  model: string
  now: Date
  /** Stamp of totalAsks as read, and whether it was limited (≠ -1). */
  totalGen: number
  totalLimited: boolean
  /** Stamp of the model's count as read, and whether it was limited. */
  modelGen: number
  modelLimited: boolean
}

export type ReserveOutcome = 'ok' | 'changed' | 'duplicate'

/**
 * The quota ledger. Counters change only through conditional UPDATEs (never a read-modify-write
 * of a row), each guarded by the stamp of the count as the check saw it; an open reservation is a
 * QuotaHold row, and deleting it is what makes commit and refund happen exactly once.
 */
export function createQuotaRepository(db: Db) {
  /** Takes one unit of totalAsks (limited) or confirms it is still unlimited; false if it changed. */
  const takeTotal = async (tx: Tx, userId: number, gen: number, limited: boolean): Promise<boolean> => {
    const n = limited
      ? await tx.$executeRaw`UPDATE "UserLimits" SET "totalAsks" = "totalAsks" - 1 WHERE "userId" = ${userId} AND "totalAsks" > 0 AND "totalAsksGen" = ${gen}`
      : await tx.$executeRaw`UPDATE "UserLimits" SET "totalAsks" = -1 WHERE "userId" = ${userId} AND "totalAsks" = -1 AND "totalAsksGen" = ${gen}`
    return n === 1
  }
  const takeModel = async (tx: Tx, userId: number, model: string, gen: number, limited: boolean): Promise<boolean> => {
    const n = limited
      ? await tx.$executeRaw`UPDATE "ModelQuota" SET "remaining" = "remaining" - 1 WHERE "userId" = ${userId} AND "model" = ${model} AND "remaining" > 0 AND "gen" = ${gen}`
      : await tx.$executeRaw`UPDATE "ModelQuota" SET "remaining" = -1 WHERE "userId" = ${userId} AND "model" = ${model} AND "remaining" = -1 AND "gen" = ${gen}`
    return n === 1
  }
  /** Gives a unit back, only to the count it came from (same stamp) and only if it is limited. */
  const giveTotal = (tx: Tx, userId: number, gen: number): Promise<number> =>
    tx.$executeRaw`UPDATE "UserLimits" SET "totalAsks" = "totalAsks" + 1 WHERE "userId" = ${userId} AND "totalAsks" >= 0 AND "totalAsksGen" = ${gen}`
  const giveModel = (tx: Tx, userId: number, model: string, gen: number): Promise<number> =>
    tx.$executeRaw`UPDATE "ModelQuota" SET "remaining" = "remaining" + 1 WHERE "userId" = ${userId} AND "model" = ${model} AND "remaining" >= 0 AND "gen" = ${gen}`

  return {
    /**
     * Reserves one ask: takes the units (if limited) and records the hold, in one short
     * transaction. 'changed' = an admin edit landed since the check read the counts (nothing is
     * taken; check again). Never throws to roll back: a failed take is undone by hand.
     */
    reserve(r: ReserveInput): Promise<ReserveOutcome> {
      return db.$transaction(async (tx) => {
        const existing = await tx.quotaHold.findUnique({ where: { askId: r.askId }, select: { askId: true } })
        const asked = await tx.ask.findUnique({ where: { id: r.askId }, select: { quota: true } })
        if (existing || (asked && asked.quota !== 'none' && asked.quota !== 'reserved'))
          return 'duplicate'
        if (!await takeTotal(tx, r.userId, r.totalGen, r.totalLimited))
          return 'changed'
        if (!await takeModel(tx, r.userId, r.model, r.modelGen, r.modelLimited)) {
          if (r.totalLimited)
            await giveTotal(tx, r.userId, r.totalGen)
          return 'changed'
        }
        await tx.quotaHold.create({
          data: {
            askId: r.askId,
            userId: r.userId,
            model: r.model,
            totalGen: r.totalLimited ? r.totalGen : null,
            modelGen: r.modelLimited ? r.modelGen : null,
            createdAt: r.now,
          },
        })
        // The chat engine writes the Ask row (quota "reserved") after admission; if it exists already, mark it.
        if (asked)
          await tx.ask.updateMany({ where: { id: r.askId, quota: 'none' }, data: { quota: 'reserved' } })
        return 'ok'
      }, TX)
    },

    /** First output arrived: the hold ends and the Ask row becomes "committed". False if not open. */
    commit(askId: string): Promise<boolean> {
      return db.$transaction(async (tx) => {
        const { count } = await tx.quotaHold.deleteMany({ where: { askId } })
        if (count !== 1)
          return false
        await tx.ask.updateMany({ where: { id: askId, quota: { in: ['reserved', 'none'] } }, data: { quota: 'committed' } })
        return true
      }, TX)
    },

    /** No output: the hold ends, its units go back where they came from, the Ask row becomes "refunded". */
    refund(askId: string): Promise<boolean> {
      return db.$transaction(async (tx) => {
        const hold = await tx.quotaHold.findUnique({ where: { askId } })
        if (!hold)
          return false
        const { count } = await tx.quotaHold.deleteMany({ where: { askId } })
        if (count !== 1)
          return false
        if (hold.totalGen !== null)
          await giveTotal(tx, hold.userId, hold.totalGen)
        if (hold.modelGen !== null)
          await giveModel(tx, hold.userId, hold.model, hold.modelGen)
        await tx.ask.updateMany({ where: { id: askId, quota: { in: ['reserved', 'none'] } }, data: { quota: 'refunded' } })
        return true
      }, TX)
    },

    openHolds(tx: Tx = db): Promise<QuotaHold[]> {
      return tx.quotaHold.findMany()
    },

    /** Ask rows left "reserved" without a hold (e.g. from before this module): nothing to give back. */
    async closeOrphans(tx: Tx = db): Promise<number> {
      const { count } = await tx.ask.updateMany({ where: { quota: 'reserved', NOT: { id: { in: (await tx.quotaHold.findMany({ select: { askId: true } })).map(h => h.askId) } } }, data: { quota: 'refunded' } })
      return count
    },

  }
}

export type QuotaRepository = ReturnType<typeof createQuotaRepository>
