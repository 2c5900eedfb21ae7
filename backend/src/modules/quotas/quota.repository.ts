import type { Db } from '../../db/client.js'
import type { WriteTx } from '../../db/sql.js'
import type { Prisma, QuotaHold } from '../../generated/prisma/client.js'
import { sqlOf } from '../../db/client.js'

type Tx = Db | Prisma.TransactionClient

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
 *
 * Reserve, commit and refund are plain SQL on Prisma's connection (db/sql.ts): each is one
 * synchronous transaction, so nothing else runs between its statements.
 */
export function createQuotaRepository(db: Db) {
  const sql = sqlOf(db)
  /** Takes one unit of totalAsks (limited) or confirms it is still unlimited; false if it changed. */
  const takeTotal = (userId: number, gen: number, limited: boolean): boolean => (limited
    ? sql.run('UPDATE "UserLimits" SET "totalAsks" = "totalAsks" - 1 WHERE "userId" = ? AND "totalAsks" > 0 AND "totalAsksGen" = ?', userId, gen)
    : sql.run('UPDATE "UserLimits" SET "totalAsks" = -1 WHERE "userId" = ? AND "totalAsks" = -1 AND "totalAsksGen" = ?', userId, gen)) === 1
  const takeModel = (userId: number, model: string, gen: number, limited: boolean): boolean => (limited
    ? sql.run('UPDATE "ModelQuota" SET "remaining" = "remaining" - 1 WHERE "userId" = ? AND "model" = ? AND "remaining" > 0 AND "gen" = ?', userId, model, gen)
    : sql.run('UPDATE "ModelQuota" SET "remaining" = -1 WHERE "userId" = ? AND "model" = ? AND "remaining" = -1 AND "gen" = ?', userId, model, gen)) === 1
  /** Gives a unit back, only to the count it came from (same stamp) and only if it is limited. */
  const giveTotal = (userId: number, gen: number): number =>
    sql.run('UPDATE "UserLimits" SET "totalAsks" = "totalAsks" + 1 WHERE "userId" = ? AND "totalAsks" >= 0 AND "totalAsksGen" = ?', userId, gen)
  const giveModel = (userId: number, model: string, gen: number): number =>
    sql.run('UPDATE "ModelQuota" SET "remaining" = "remaining" + 1 WHERE "userId" = ? AND "model" = ? AND "remaining" >= 0 AND "gen" = ?', userId, model, gen)

  /** Inside a write block (`tx`): see `reserve`. */
  function reserveIn(tx: WriteTx, r: ReserveInput): ReserveOutcome {
    const existing = tx.get('SELECT 1 AS "x" FROM "QuotaHold" WHERE "askId" = ?', r.askId)
    const asked = tx.get<{ quota: string }>('SELECT "quota" FROM "Ask" WHERE "id" = ?', r.askId)
    if (existing || (asked && asked.quota !== 'none' && asked.quota !== 'reserved'))
      return 'duplicate'
    if (!takeTotal(r.userId, r.totalGen, r.totalLimited))
      return 'changed'
    if (!takeModel(r.userId, r.model, r.modelGen, r.modelLimited)) {
      if (r.totalLimited)
        giveTotal(r.userId, r.totalGen)
      return 'changed'
    }
    sql.run(
      'INSERT INTO "QuotaHold" ("askId", "userId", "model", "totalGen", "modelGen", "createdAt") VALUES (?, ?, ?, ?, ?, ?)',
      r.askId,
      r.userId,
      r.model,
      r.totalLimited ? r.totalGen : null,
      r.modelLimited ? r.modelGen : null,
      r.now,
    )
    // The chat engine writes the Ask row (quota "reserved") after admission; if it exists already, mark it.
    if (asked)
      sql.run('UPDATE "Ask" SET "quota" = \'reserved\' WHERE "id" = ? AND "quota" = \'none\'', r.askId)
    return 'ok'
  }

  /** Inside a write block: see `refund`. */
  function refundIn(askId: string): boolean {
    const hold = sql.get<{ userId: number, model: string, totalGen: number | null, modelGen: number | null }>('SELECT "userId", "model", "totalGen", "modelGen" FROM "QuotaHold" WHERE "askId" = ?', askId)
    if (!hold)
      return false
    if (sql.run('DELETE FROM "QuotaHold" WHERE "askId" = ?', askId) !== 1)
      return false
    if (hold.totalGen !== null)
      giveTotal(hold.userId, hold.totalGen)
    if (hold.modelGen !== null)
      giveModel(hold.userId, hold.model, hold.modelGen)
    sql.run('UPDATE "Ask" SET "quota" = \'refunded\' WHERE "id" = ? AND "quota" IN (\'reserved\', \'none\')', askId)
    return true
  }

  return {
    reserveIn,

    /**
     * Reserves one ask: takes the units (if limited) and records the hold, in one short
     * transaction. 'changed' = an admin edit landed since the check read the counts (nothing is
     * taken; check again). Never throws to roll back: a failed take is undone by hand.
     */
    reserve(r: ReserveInput): Promise<ReserveOutcome> {
      return sql.write(tx => reserveIn(tx, r))
    },

    /**
     * First output arrived: the hold ends and the Ask row becomes "committed", keeping the hold's
     * stamps (for `refundCommitted`). False if not open.
     */
    commit(askId: string): Promise<boolean> {
      return sql.write(() => {
        const hold = sql.get<{ totalGen: number | null, modelGen: number | null }>('SELECT "totalGen", "modelGen" FROM "QuotaHold" WHERE "askId" = ?', askId)
        if (!hold || sql.run('DELETE FROM "QuotaHold" WHERE "askId" = ?', askId) !== 1)
          return false
        sql.run('UPDATE "Ask" SET "quota" = \'committed\', "quotaTotalGen" = ?, "quotaModelGen" = ? WHERE "id" = ? AND "quota" IN (\'reserved\', \'none\')', hold.totalGen, hold.modelGen, askId)
        return true
      })
    },

    /**
     * An answer cut by our own crash or shutdown (issue #15 §4): a committed unit goes back where
     * it came from (same stamp rule as `refund`) and the Ask row becomes "refunded". False if the
     * ask was not committed (nothing to give back, or given back already).
     */
    refundCommitted(askId: string): Promise<boolean> {
      return sql.write(() => {
        const ask = sql.get<{ userId: number, model: string, quotaTotalGen: number | null, quotaModelGen: number | null }>('SELECT "userId", "model", "quotaTotalGen", "quotaModelGen" FROM "Ask" WHERE "id" = ? AND "quota" = \'committed\'', askId)
        if (!ask || sql.run('UPDATE "Ask" SET "quota" = \'refunded\' WHERE "id" = ? AND "quota" = \'committed\'', askId) !== 1)
          return false
        if (ask.quotaTotalGen !== null)
          giveTotal(ask.userId, ask.quotaTotalGen)
        if (ask.quotaModelGen !== null)
          giveModel(ask.userId, ask.model, ask.quotaModelGen)
        return true
      })
    },

    /** No output: the hold ends, its units go back where they came from, the Ask row becomes "refunded". */
    refund(askId: string): Promise<boolean> {
      return sql.write(() => refundIn(askId))
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
