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

    /** Stores the question, the (empty, `streaming`) answer and the Ask row in one transaction. */
    async accept(a: AcceptInput): Promise<void> {
      const ops = []
      if (a.newConversation) {
        ops.push(db.conversation.create({
          data: { id: a.conversationId, userId: a.userId, title: a.newConversation.title, model: a.model, upstreamId: a.upstreamId, createdAt: a.now, updatedAt: a.now },
        }))
      }
      else {
        ops.push(db.conversation.update({ where: { id: a.conversationId }, data: { updatedAt: a.now, model: a.model, upstreamId: a.upstreamId } }))
      }
      if (a.userMessage) {
        ops.push(db.message.create({
          data: { id: a.userMessage.id, conversationId: a.conversationId, parentId: a.userMessage.parentId, role: 'user', content: a.userMessage.content, status: 'done', model: a.model, createdAt: a.now },
        }))
      }
      if (a.assistantMessage) {
        ops.push(db.message.create({
          // 1 ms later than the question so "oldest first" is unambiguous.
          data: { id: a.assistantMessage.id, conversationId: a.conversationId, parentId: a.assistantMessage.parentId, role: 'assistant', content: '', status: 'streaming', model: a.model, createdAt: new Date(a.now.getTime() + 1) },
        }))
      }
      if (a.reopenMessageId) {
        ops.push(db.message.update({ where: { id: a.reopenMessageId }, data: { status: 'streaming', finishReason: null, errorCode: null, model: a.model } }))
      }
      ops.push(db.ask.create({
        data: { id: a.askId, userId: a.userId, conversationId: a.conversationId, model: a.model, upstreamId: a.upstreamId, outcome: 'queued', quota: 'reserved', charsIn: a.charsIn, createdAt: a.now },
      }))
      await db.$transaction(ops)
    },

    async askExists(id: string, userId: number): Promise<boolean> {
      return (await db.ask.count({ where: { id, userId } })) > 0
    },

    async markRunning(askId: string, startedAt: Date, queueWaitMs: number): Promise<void> {
      await db.ask.update({ where: { id: askId }, data: { outcome: 'running', startedAt, queueWaitMs } })
    },

    /** Writes the final answer, the Ask row and the conversation in one transaction. */
    async finalize(f: FinalizeInput): Promise<void> {
      await db.$transaction([
        db.message.update({
          where: { id: f.messageId },
          data: {
            content: f.content,
            status: f.status,
            finishReason: f.finishReason,
            errorCode: f.errorCode,
            ...(f.upstreamMessageId ? { upstreamMessageId: f.upstreamMessageId } : {}),
          },
        }),
        db.ask.update({
          where: { id: f.askId },
          data: {
            outcome: f.ask.outcome,
            quota: f.quota,
            errorCode: f.errorCode,
            finishReason: f.finishReason,
            queueWaitMs: f.ask.queueWaitMs,
            ttftMs: f.ask.ttftMs,
            durationMs: f.ask.durationMs,
            charsOut: f.ask.charsOut,
            tokensIn: f.ask.tokensIn ?? null,
            tokensOut: f.ask.tokensOut ?? null,
            startedAt: f.ask.startedAt,
            endedAt: f.now,
          },
        }),
        db.conversation.update({
          where: { id: f.conversationId },
          data: {
            updatedAt: f.now,
            ...(f.upstreamConversationId ? { upstreamConversationId: f.upstreamConversationId } : {}),
            ...(f.title ? { title: f.title } : {}),
          },
        }),
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
