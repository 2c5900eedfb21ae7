import type { ConversationDetail, ConversationList, ConversationListQuery, ConversationSummary, MessageView } from '../../contracts/conversations.js'
import type { ProviderRegistry } from '../providers/registry.js'
import type { ConversationsRepository } from './conversations.repository.js'
import { AppError } from '../../lib/errors.js'

export interface ConversationsServiceDeps {
  repo: ConversationsRepository
  providers: ProviderRegistry
  /** Stops an answer being written in the conversation and waits until it is stored. */
  stopConversation: (conversationId: string) => Promise<void>
  logger: { warn: (obj: object, msg?: string) => void }
}

interface SummaryRow { id: string, title: string, model: string, createdAt: Date, updatedAt: Date }

function summary(c: SummaryRow): ConversationSummary {
  return {
    id: c.id,
    title: c.title,
    model: c.model,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  }
}

function encodeCursor(c: SummaryRow): string {
  return Buffer.from(JSON.stringify([c.updatedAt.getTime(), c.id])).toString('base64url')
}

function decodeCursor(cursor: string): { updatedAt: Date, id: string } {
  try {
    const [t, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown]
    // Within the range of a Date: a crafted cursor must not reach the database as an Invalid Date.
    if (typeof t === 'number' && Number.isFinite(t) && Math.abs(t) <= 8.64e15 && typeof id === 'string')
      return { updatedAt: new Date(t), id }
  }
  catch {}
  throw new AppError('BAD_REQUEST', 'query.cursor: not a cursor from this API')
}

const NOT_FOUND = 'No such conversation.'

/** Members' own conversations. Another member's conversation is NOT_FOUND, never FORBIDDEN. */
export function createConversationsService(deps: ConversationsServiceDeps) {
  const { repo } = deps
  return {
    async list(userId: number, q: ConversationListQuery): Promise<ConversationList> {
      const limit = q.limit ?? 20
      const after = q.cursor ? decodeCursor(q.cursor) : undefined
      const skip = !after && q.page ? (q.page - 1) * limit : undefined
      const { items, total } = await repo.list(userId, { limit, skip, after })
      const page = items.slice(0, limit)
      return {
        items: page.map(summary),
        nextCursor: items.length > limit ? encodeCursor(page.at(-1)!) : null,
        total,
      }
    },

    async get(userId: number, id: string): Promise<ConversationDetail> {
      const c = await repo.get(id, userId)
      if (!c)
        throw new AppError('NOT_FOUND', NOT_FOUND)
      return {
        ...summary(c),
        messages: c.messages.map(m => ({
          id: m.id,
          parentId: m.parentId,
          role: m.role as MessageView['role'],
          content: m.content,
          status: m.status as MessageView['status'],
          model: m.model,
          finishReason: m.finishReason,
          errorCode: m.errorCode,
          createdAt: m.createdAt.toISOString(),
          updatedAt: m.updatedAt.toISOString(),
        })),
      }
    },

    async rename(userId: number, id: string, title: string): Promise<ConversationSummary> {
      const c = await repo.find(id, userId)
      if (!c)
        throw new AppError('NOT_FOUND', NOT_FOUND)
      const updated = await repo.rename(id, title.trim() || c.title)
      // ChatGPT web: keep the upstream title in step (best effort), so it never comes back on a sync.
      const provider = deps.providers.get(c.upstreamId)
      if (c.upstreamConversationId && provider?.rename) {
        provider.rename(c.upstreamConversationId, updated.title).catch(err => deps.logger.warn({ err, conversationId: id }, 'upstream rename failed'))
      }
      return summary(updated)
    },

    /** Deletes locally (stopping any answer being written), then hides it upstream (ChatGPT web, best effort). */
    async delete(userId: number, id: string): Promise<void> {
      const c = await repo.find(id, userId)
      if (!c)
        throw new AppError('NOT_FOUND', NOT_FOUND)
      await deps.stopConversation(id)
      await repo.delete(id)
      const provider = deps.providers.get(c.upstreamId)
      if (c.upstreamConversationId && provider?.hide) {
        provider.hide(c.upstreamConversationId).catch(err => deps.logger.warn({ err, conversationId: id }, 'hiding the conversation upstream failed'))
      }
    },
  }
}

export type ConversationsService = ReturnType<typeof createConversationsService>
