/**
 * The database side of restart recovery (recovery.ts): what a crash left half-done, and the
 * answers read back complete from the upstream afterwards.
 */
import type { Db } from '../../db/client.js'
import type { FinishReason } from '../providers/types.js'
import { sqlOf } from '../../db/client.js'

/** The code an answer cut by our own crash or shutdown is stored with (the `error` event of a shutdown says the same). */
export const CUT_BY_RESTART = 'SERVICE_UNAVAILABLE'

/** A committed ask cut by our crash or restart, not yet refunded or recovered. */
export interface CutAsk {
  askId: string
  upstreamId: string
  accountId: string | null
  messageId: string | null
  /** What was stored of the answer (the last checkpoint). */
  content: string | null
  upstreamMessageId: string | null
  upstreamConversationId: string | null
}

export function createRecoveryRepository(db: Db) {
  const sql = sqlOf(db)
  return {
    /**
     * Start-up: answers left `streaming` and asks left `queued`/`running` by a crash become
     * `interrupted`, marked as cut by a restart (partial text kept).
     */
    markCut(now: Date): Promise<{ messages: number, asks: number }> {
      return sql.write(tx => ({
        messages: tx.run('UPDATE "Message" SET "status" = \'interrupted\', "errorCode" = COALESCE("errorCode", ?) WHERE "status" = \'streaming\'', CUT_BY_RESTART),
        asks: tx.run('UPDATE "Ask" SET "outcome" = \'interrupted\', "endedAt" = ?, "errorCode" = COALESCE("errorCode", ?) WHERE "outcome" IN (\'queued\', \'running\')', now, CUT_BY_RESTART),
      }))
    },

    /** Asks cut by a restart whose unit is still spent: each is either recovered complete or refunded. */
    unsettled(): CutAsk[] {
      return sql.all<CutAsk>(
        `SELECT a."id" AS "askId", a."upstreamId", a."accountId", a."messageId", m."content", m."upstreamMessageId", c."upstreamConversationId"
         FROM "Ask" a LEFT JOIN "Message" m ON m."id" = a."messageId" LEFT JOIN "Conversation" c ON c."id" = a."conversationId"
         WHERE a."outcome" = 'interrupted' AND a."errorCode" = ? AND a."quota" = 'committed' AND a."recoveredAt" IS NULL`,
        CUT_BY_RESTART,
      )
    },

    /** The upstream finished the answer: it is stored whole, as done, and the ask log says "recovered". False if the answer moved on meanwhile. */
    storeRecovered(r: { askId: string, messageId: string, content: string, charsOut: number, finishReason: FinishReason, now: Date }): Promise<boolean> {
      return sql.write((tx) => {
        if (tx.run('UPDATE "Message" SET "content" = ?, "status" = \'done\', "finishReason" = ?, "errorCode" = NULL, "updatedAt" = ? WHERE "id" = ? AND "status" = \'interrupted\'', r.content, r.finishReason, r.now, r.messageId) !== 1)
          return false
        tx.run('UPDATE "Ask" SET "outcome" = \'done\', "errorCode" = NULL, "finishReason" = ?, "charsOut" = ?, "recoveredAt" = ? WHERE "id" = ?', r.finishReason, r.charsOut, r.now, r.askId)
        return true
      })
    },
  }
}

export type RecoveryRepository = ReturnType<typeof createRecoveryRepository>
