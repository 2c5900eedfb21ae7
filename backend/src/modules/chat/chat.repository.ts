/** The chat engine's only access to the database. Every transaction is a short batch (ENV.md, prisma#29933). */
import type { Db } from '../../db/client.js'

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
  conversationId: string
  /** Present for `next`: the question to store. */
  userMessage?: { id: string, parentId: string | null, content: string }
  /** Present for `next`/`regenerate`: the answer row to create. */
  assistantMessage?: { id: string, parentId: string }
  /** Present for `continue`: the answer row to reopen. */
  reopenMessageId?: string
}

export interface FinalizeInput {
  now: Date
  askId: string
  conversationId: string
  messageId: string
  content: string
  status: 'done' | 'stopped' | 'error' | 'interrupted'
  /** The quota reservation's fate: committed at the first output, else refunded. */
  quota: 'committed' | 'refunded'
  finishReason: string | null
  errorCode: string | null
  upstreamMessageId?: string
  upstreamConversationId?: string
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

export function createChatRepository(db: Db) {
  return {
    async findConversation(id: string, userId: number): Promise<StoredConversation | null> {
      return db.conversation.findFirst({
        where: { id, userId },
        select: {
          id: true,
          userId: true,
          title: true,
          model: true,
          upstreamId: true,
          upstreamConversationId: true,
          messages: {
            orderBy: [{ createdAt: 'asc' }],
            select: { id: true, parentId: true, role: true, content: true, status: true, model: true, upstreamMessageId: true, finishReason: true, createdAt: true },
          },
        },
      })
    },

    /**
     * Stores the question, the (empty, `streaming`) answer and the Ask row in one short transaction.
     * Plain SQL statements: this is on every ask's path to its first token, and Prisma's generated
     * inserts cost several times more (measured with bench/stream.ts).
     */
    async accept(a: AcceptInput): Promise<void> {
      const ops = []
      if (a.newConversation) {
        ops.push(db.$executeRawUnsafe(
          'INSERT INTO "Conversation" ("id", "userId", "title", "model", "upstreamId", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?)',
          a.conversationId,
          a.userId,
          a.newConversation.title,
          a.model,
          a.upstreamId,
          a.now,
          a.now,
        ))
      }
      else {
        ops.push(db.$executeRawUnsafe('UPDATE "Conversation" SET "updatedAt" = ?, "model" = ?, "upstreamId" = ? WHERE "id" = ?', a.now, a.model, a.upstreamId, a.conversationId))
      }
      const insertMessage = 'INSERT INTO "Message" ("id", "conversationId", "parentId", "role", "content", "status", "model", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'
      if (a.userMessage)
        ops.push(db.$executeRawUnsafe(insertMessage, a.userMessage.id, a.conversationId, a.userMessage.parentId, 'user', a.userMessage.content, 'done', a.model, a.now, a.now))
      if (a.assistantMessage) {
        // 1 ms later than the question so "oldest first" is unambiguous.
        const at = new Date(a.now.getTime() + 1)
        ops.push(db.$executeRawUnsafe(insertMessage, a.assistantMessage.id, a.conversationId, a.assistantMessage.parentId, 'assistant', '', 'streaming', a.model, at, at))
      }
      if (a.reopenMessageId) {
        ops.push(db.$executeRawUnsafe(
          'UPDATE "Message" SET "status" = \'streaming\', "finishReason" = NULL, "errorCode" = NULL, "model" = ?, "updatedAt" = ? WHERE "id" = ?',
          a.model,
          a.now,
          a.reopenMessageId,
        ))
      }
      ops.push(db.$executeRawUnsafe(
        'INSERT INTO "Ask" ("id", "userId", "conversationId", "model", "upstreamId", "outcome", "quota", "charsIn", "createdAt") VALUES (?, ?, ?, ?, ?, \'queued\', \'reserved\', ?, ?)',
        a.askId,
        a.userId,
        a.conversationId,
        a.model,
        a.upstreamId,
        a.charsIn,
        a.now,
      ))
      await db.$transaction(ops)
    },

    async askExists(id: string, userId: number): Promise<boolean> {
      return (await db.ask.count({ where: { id, userId } })) > 0
    },

    /**
     * Writes the final answer, the Ask row and the conversation in one short transaction (plain SQL,
     * as `accept`). A conversation deleted meanwhile simply matches no rows.
     */
    async finalize(f: FinalizeInput): Promise<void> {
      await db.$transaction([
        db.$executeRawUnsafe(
          'UPDATE "Message" SET "content" = ?, "status" = ?, "finishReason" = ?, "errorCode" = ?, "upstreamMessageId" = COALESCE(?, "upstreamMessageId"), "updatedAt" = ? WHERE "id" = ?',
          f.content,
          f.status,
          f.finishReason,
          f.errorCode,
          f.upstreamMessageId ?? null,
          f.now,
          f.messageId,
        ),
        db.$executeRawUnsafe(
          'UPDATE "Ask" SET "outcome" = ?, "quota" = ?, "errorCode" = ?, "finishReason" = ?, "queueWaitMs" = ?, "ttftMs" = ?, "durationMs" = ?, "charsOut" = ?, "tokensIn" = ?, "tokensOut" = ?, "startedAt" = ?, "endedAt" = ? WHERE "id" = ?',
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
        ),
        db.$executeRawUnsafe(
          'UPDATE "Conversation" SET "updatedAt" = ?, "upstreamConversationId" = COALESCE(?, "upstreamConversationId"), "title" = COALESCE(?, "title") WHERE "id" = ?',
          f.now,
          f.upstreamConversationId ?? null,
          f.title ?? null,
          f.conversationId,
        ),
      ])
    },

    /** Start-up: answers left `streaming` and asks left queued/running by a crash become `interrupted`. */
    async recoverInterrupted(now: Date): Promise<{ messages: number, asks: number }> {
      const [messages, asks] = await db.$transaction([
        db.message.updateMany({ where: { status: 'streaming' }, data: { status: 'interrupted' } }),
        db.ask.updateMany({ where: { outcome: { in: ['queued', 'running'] } }, data: { outcome: 'interrupted', endedAt: now } }),
      ])
      return { messages: messages.count, asks: asks.count }
    },
  }
}

export type ChatRepository = ReturnType<typeof createChatRepository>
