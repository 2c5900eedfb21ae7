/**
 * The ask pipeline's only access to the database. Every transaction is short and synchronous
 * (db/sql.ts; prisma/orm#29933 in docs/architecture.md, "Persistence").
 */
import type { Db } from '../../db/client.js'
import type { WriteTx } from '../../db/sql.js'
import { sqlOf } from '../../db/client.js'

export interface StoredMessage {
  id: string
  parentId: string | null
  role: string
  content: string
  status: string
  model: string
  upstreamMessageId: string | null
  finishReason: string | null
  createdAt: Date
}

export interface StoredConversation {
  id: string
  userId: number
  title: string
  model: string
  upstreamId: string
  upstreamConversationId: string | null
  /** The pool account holding the upstream conversation (ChatGPT web). */
  accountId: string | null
  messages: StoredMessage[]
}

export interface AcceptInput {
  now: Date
  askId: string
  userId: number
  model: string
  upstreamId: string
  charsIn: number
  /** Present when the ask starts a conversation. */
  newConversation?: { id: string, title: string }
  /** `continueFrom`: the earlier turns copied into the new conversation, before the question. */
  carried?: StoredMessage[]
  conversationId: string
  /** Present for `next`: the question to store. */
  userMessage?: { id: string, parentId: string | null, content: string }
  /** Present for `next`/`regenerate`: the answer row to create. */
  assistantMessage?: { id: string, parentId: string }
  /** Present for `continue`: the answer row to reopen. */
  reopenMessageId?: string
  /** The answer row this ask writes. */
  messageId: string
}

/** What a finished ask looked like, for a listener that attaches after it ended. */
export interface AskSnapshot {
  requestId: string
  conversationId: string
  messageId: string
  questionId: string
  outcome: string
  started: boolean
  content: string
  finishReason: string | null
  errorCode: string | null
}

export interface FinalizeInput {
  now: Date
  askId: string
  conversationId: string
  messageId: string
  /** The answer's text that no checkpoint saved yet, as UTF-8: appended to the stored row (which holds the rest). */
  unsaved: Uint8Array
  status: 'done' | 'stopped' | 'error' | 'interrupted'
  /** The quota reservation's fate: committed at the first output, else refunded. */
  quota: 'committed' | 'refunded'
  finishReason: string | null
  errorCode: string | null
  upstreamMessageId?: string
  upstreamConversationId?: string
  /** The conversation's account, when it now lives on one upstream (ChatGPT web). */
  accountId?: string
  /** The account the ask ran on. */
  askAccountId?: string
  title?: string
  ask: {
    outcome: 'done' | 'stopped' | 'error' | 'interrupted'
    queueWaitMs: number | null
    ttftMs: number | null
    durationMs: number
    charsOut: number
    tokensIn?: number
    tokensOut?: number
    startedAt: Date | null
  }
}

interface RawMessage { id: string, parentId: string | null, role: string, content: string, status: string, model: string, upstreamMessageId: string | null, finishReason: string | null, createdAt: string }

export function createAsksRepository(db: Db) {
  // Every statement on an ask's path is plain SQL on Prisma's connection (db/sql.ts): through
  // Prisma each cost 0.3–2 ms of event-loop time, which 200 simultaneous asks add up (bench/stream.ts).
  const sql = sqlOf(db)
  return {
    async findConversation(id: string, userId: number): Promise<StoredConversation | null> {
      const conv = sql.get<Omit<StoredConversation, 'messages'>>(
        'SELECT "id", "userId", "title", "model", "upstreamId", "upstreamConversationId", "accountId" FROM "Conversation" WHERE "id" = ? AND "userId" = ?',
        id,
        userId,
      )
      if (!conv)
        return null
      const messages = sql.all<RawMessage>(
        'SELECT "id", "parentId", "role", "content", "status", "model", "upstreamMessageId", "finishReason", "createdAt" FROM "Message" WHERE "conversationId" = ? ORDER BY "createdAt" ASC',
        id,
      ).map(m => ({ ...m, createdAt: new Date(m.createdAt) }))
      return { ...conv, messages }
    },

    /**
     * Stores the question, the (empty, `streaming`) answer and the Ask row, inside the admission
     * transaction (with the quota reservation), committed before `accepted` is sent.
     */
    acceptIn(sql: WriteTx, a: AcceptInput): void {
      if (a.newConversation) {
        sql.run(
          'INSERT INTO "Conversation" ("id", "userId", "title", "model", "upstreamId", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?)',
          a.conversationId,
          a.userId,
          a.newConversation.title,
          a.model,
          a.upstreamId,
          a.now,
          a.now,
        )
      }
      else {
        sql.run('UPDATE "Conversation" SET "updatedAt" = ?, "model" = ?, "upstreamId" = ? WHERE "id" = ?', a.now, a.model, a.upstreamId, a.conversationId)
      }
      const insertMessage = 'INSERT INTO "Message" ("id", "conversationId", "parentId", "role", "content", "status", "model", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'
      for (const m of a.carried ?? [])
        sql.run('INSERT INTO "Message" ("id", "conversationId", "parentId", "role", "content", "status", "model", "finishReason", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', m.id, a.conversationId, m.parentId, m.role, m.content, m.status, m.model, m.finishReason, m.createdAt, m.createdAt)
      if (a.userMessage)
        sql.run(insertMessage, a.userMessage.id, a.conversationId, a.userMessage.parentId, 'user', a.userMessage.content, 'done', a.model, a.now, a.now)
      if (a.assistantMessage) {
        // 1 ms later than the question so "oldest first" is unambiguous.
        const at = new Date(a.now.getTime() + 1)
        sql.run(insertMessage, a.assistantMessage.id, a.conversationId, a.assistantMessage.parentId, 'assistant', '', 'streaming', a.model, at, at)
      }
      if (a.reopenMessageId) {
        sql.run(
          'UPDATE "Message" SET "status" = \'streaming\', "finishReason" = NULL, "errorCode" = NULL, "model" = ?, "updatedAt" = ? WHERE "id" = ?',
          a.model,
          a.now,
          a.reopenMessageId,
        )
      }
      sql.run(
        'INSERT INTO "Ask" ("id", "userId", "conversationId", "messageId", "model", "upstreamId", "outcome", "quota", "charsIn", "createdAt") VALUES (?, ?, ?, ?, ?, ?, \'queued\', \'reserved\', ?, ?)',
        a.askId,
        a.userId,
        a.conversationId,
        a.messageId,
        a.model,
        a.upstreamId,
        a.charsIn,
        a.now,
      )
    },

    async askExists(id: string, userId: number): Promise<boolean> {
      return !!sql.get('SELECT 1 AS "x" FROM "Ask" WHERE "id" = ? AND "userId" = ?', id, userId)
    },

    /** The ask got its slot: the ask log says `running` from now on. */
    markRunning(id: string, startedAt: Date, accountId: string): Promise<number> {
      return sql.write(tx => tx.run('UPDATE "Ask" SET "outcome" = \'running\', "startedAt" = ?, "accountId" = ? WHERE "id" = ? AND "outcome" IN (\'queued\', \'running\')', startedAt, accountId, id))
    },

    /**
     * ChatGPT web: the upstream ids of the answer being written, as soon as the upstream names them
     * (a crash can then be followed by reading the finished answer back: recovery.ts).
     */
    markContext(c: { conversationId: string, messageId: string, upstreamConversationId: string, upstreamMessageId: string, accountId?: string }): Promise<void> {
      return sql.write((tx) => {
        tx.run('UPDATE "Message" SET "upstreamMessageId" = ? WHERE "id" = ? AND "status" = \'streaming\'', c.upstreamMessageId, c.messageId)
        tx.run('UPDATE "Conversation" SET "upstreamConversationId" = COALESCE("upstreamConversationId", ?), "accountId" = COALESCE("accountId", ?) WHERE "id" = ?', c.upstreamConversationId, c.accountId ?? null, c.conversationId)
      })
    },

    /**
     * Appends the text that came since the last checkpoint to answers being written (only rows
     * still `streaming`: never a final answer). The answer's text is never sent whole here.
     */
    checkpoint(batch: Array<[messageId: string, added: Uint8Array]>): Promise<number> {
      const cases = batch.map(() => 'WHEN ? THEN ?').join(' ')
      const ids = batch.map(() => '?').join(',')
      const params = [...batch.flat(), ...batch.map(([id]) => id)]
      return sql.write(tx => tx.run(`UPDATE "Message" SET "content" = "content" || CASE "id" ${cases} END WHERE "status" = 'streaming' AND "id" IN (${ids})`, ...params))
    },

    /** A member's ask as stored (null: none, or another member's). */
    askSnapshot(id: string, userId: number): AskSnapshot | null {
      const row = sql.get<Omit<AskSnapshot, 'started'> & { startedAt: string | null }>(
        `SELECT a."id" AS "requestId", a."conversationId", a."messageId", m."parentId" AS "questionId", a."outcome", a."startedAt",
                m."content", m."finishReason", COALESCE(a."errorCode", m."errorCode") AS "errorCode"
         FROM "Ask" a JOIN "Message" m ON m."id" = a."messageId" WHERE a."id" = ? AND a."userId" = ?`,
        id,
        userId,
      )
      if (!row)
        return null
      const { startedAt, ...rest } = row
      return { ...rest, questionId: rest.questionId ?? rest.messageId, started: startedAt !== null || !!rest.content }
    },

    /**
     * Writes the final answer, the Ask row and the conversation in one transaction. A conversation
     * deleted meanwhile simply matches no rows.
     */
    async finalize(f: FinalizeInput): Promise<void> {
      await sql.write((sql) => {
        sql.run(
          'UPDATE "Message" SET "content" = "content" || ?, "status" = ?, "finishReason" = ?, "errorCode" = ?, "upstreamMessageId" = COALESCE(?, "upstreamMessageId"), "updatedAt" = ? WHERE "id" = ?',
          f.unsaved,
          f.status,
          f.finishReason,
          f.errorCode,
          f.upstreamMessageId ?? null,
          f.now,
          f.messageId,
        )
        sql.run(
          'UPDATE "Ask" SET "accountId" = COALESCE(?, "accountId"), "outcome" = ?, "quota" = ?, "errorCode" = ?, "finishReason" = ?, "queueWaitMs" = ?, "ttftMs" = ?, "durationMs" = ?, "charsOut" = ?, "tokensIn" = ?, "tokensOut" = ?, "startedAt" = ?, "endedAt" = ? WHERE "id" = ?',
          f.askAccountId ?? null,
          f.ask.outcome,
          f.quota,
          f.errorCode,
          f.finishReason,
          f.ask.queueWaitMs,
          f.ask.ttftMs,
          f.ask.durationMs,
          f.ask.charsOut,
          f.ask.tokensIn ?? null,
          f.ask.tokensOut ?? null,
          f.ask.startedAt,
          f.now,
          f.askId,
        )
        sql.run(
          'UPDATE "Conversation" SET "updatedAt" = ?, "upstreamConversationId" = COALESCE(?, "upstreamConversationId"), "accountId" = COALESCE("accountId", ?), "title" = COALESCE(?, "title") WHERE "id" = ?',
          f.now,
          f.upstreamConversationId ?? null,
          f.accountId ?? null,
          f.title ?? null,
          f.conversationId,
        )
      })
    },
  }
}

export type AsksRepository = ReturnType<typeof createAsksRepository>
