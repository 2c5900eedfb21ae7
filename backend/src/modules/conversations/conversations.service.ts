import type { AdminConversationDetail, AdminConversationList, AdminConversationListQuery, AdminConversationPatch, AdminConversationSummary } from '../../contracts/admin-conversations.js'
import type { ConversationDetail, ConversationList, ConversationListQuery, ConversationSummary, MessageView } from '../../contracts/conversations.js'
import type { Provider } from '../providers/types.js'
import type { ConversationsRepository, ListPage } from './conversations.repository.js'
import { AppError } from '../../lib/errors.js'

export interface ConversationsServiceDeps {
  repo: ConversationsRepository
  /** The provider of the account that holds a conversation upstream (rename, hide). */
  providerOf: (upstreamId: string, accountId: string | null) => Provider | undefined
  /** Stops an answer being written in the conversation and waits until it is stored. */
  stopConversation: (conversationId: string) => Promise<void>
  logger: { warn: (obj: object, msg?: string) => void }
}

interface SummaryRow { id: string, title: string, model: string, createdAt: Date, updatedAt: Date, activeRequestId: string | null }
interface AdminRow extends SummaryRow { upstreamId: string, user: { id: number, username: string, nickname: string }, _count: { messages: number } }
interface MessageRow { id: string, parentId: string | null, role: string, content: string, status: string, model: string, finishReason: string | null, errorCode: string | null, createdAt: Date, updatedAt: Date }
interface UpstreamRef { id: string, upstreamId: string, upstreamConversationId: string | null, accountId: string | null }

function summary(c: SummaryRow): ConversationSummary {
  return {
    id: c.id,
    title: c.title,
    model: c.model,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    activeRequestId: c.activeRequestId,
  }
}

function adminSummary(c: AdminRow): AdminConversationSummary {
  return { ...summary(c), upstreamId: c.upstreamId, owner: { ...c.user }, messageCount: c._count.messages }
}

function messageView(m: MessageRow): MessageView {
  return {
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

/** `cursor` wins over `page`; `limit` defaults to 20. */
function pageOf(q: { cursor?: string, page?: number, limit?: number }): ListPage {
  const limit = q.limit ?? 20
  const after = q.cursor ? decodeCursor(q.cursor) : undefined
  return { limit, after, skip: !after && q.page ? (q.page - 1) * limit : undefined }
}

/** The page of `items` (fetched with one extra row) and the cursor after it. */
function paged<R extends SummaryRow, V>(items: R[], limit: number, view: (r: R) => V): { items: V[], nextCursor: string | null } {
  const page = items.slice(0, limit)
  return { items: page.map(view), nextCursor: items.length > limit ? encodeCursor(page.at(-1)!) : null }
}

const NOT_FOUND = 'No such conversation.'

/**
 * Conversations: a member's own (another member's is NOT_FOUND, never FORBIDDEN), and everyone's for
 * the admin (`…Any` methods; the admin routes only).
 */
export function createConversationsService(deps: ConversationsServiceDeps) {
  const { repo } = deps

  async function found<T>(row: Promise<T | null>): Promise<T> {
    const c = await row
    if (!c)
      throw new AppError('NOT_FOUND', NOT_FOUND)
    return c
  }

  /** ChatGPT web: keep the upstream title in step (best effort), so it never comes back on a sync. */
  function renameUpstream(c: UpstreamRef, title: string): void {
    const provider = deps.providerOf(c.upstreamId, c.accountId)
    if (c.upstreamConversationId && provider?.rename)
      provider.rename(c.upstreamConversationId, title).catch(err => deps.logger.warn({ err, conversationId: c.id }, 'upstream rename failed'))
  }

  /** Deletes locally (stopping any answer being written), then hides it upstream (ChatGPT web, best effort). */
  async function remove(c: UpstreamRef): Promise<void> {
    await deps.stopConversation(c.id)
    await repo.delete(c.id)
    const provider = deps.providerOf(c.upstreamId, c.accountId)
    if (c.upstreamConversationId && provider?.hide)
      provider.hide(c.upstreamConversationId).catch(err => deps.logger.warn({ err, conversationId: c.id }, 'hiding the conversation upstream failed'))
  }

  return {
    async list(userId: number, q: ConversationListQuery): Promise<ConversationList> {
      const page = pageOf(q)
      const { items, total } = await repo.list(userId, page)
      return { ...paged(items, page.limit, summary), total }
    },

    async get(userId: number, id: string): Promise<ConversationDetail> {
      const c = await found(repo.get(id, userId))
      return { ...summary(c), messages: c.messages.map(messageView) }
    },

    async rename(userId: number, id: string, title: string): Promise<ConversationSummary> {
      const c = await found(repo.find(id, userId))
      const updated = (await repo.rename(id, title.trim() || c.title))!
      renameUpstream(c, updated.title)
      return summary(updated)
    },

    async delete(userId: number, id: string): Promise<void> {
      await remove(await found(repo.find(id, userId)))
    },

    /** Everyone's conversations, newest first; by member and by title. */
    async listAny(q: AdminConversationListQuery): Promise<AdminConversationList> {
      const page = pageOf(q)
      const { items, total } = await repo.listAll({ userId: q.userId, titleContains: q.q?.trim() || undefined }, page)
      return { ...paged(items, page.limit, adminSummary), total }
    },

    async getAny(id: string): Promise<AdminConversationDetail> {
      const c = await found(repo.get(id))
      return { ...adminSummary(c), messages: c.messages.map(messageView) }
    },

    /** Rename and/or give to another member; an unknown member is NOT_FOUND (nothing changes). */
    async updateAny(id: string, patch: AdminConversationPatch): Promise<AdminConversationSummary> {
      const c = await found(repo.find(id))
      if (patch.ownerId !== undefined && !(await repo.userExists(patch.ownerId)))
        throw new AppError('NOT_FOUND', 'No such user.')
      const title = patch.title?.trim()
      if (title && title !== c.title) {
        await repo.rename(id, title)
        renameUpstream(c, title)
      }
      if (patch.ownerId !== undefined)
        await repo.setOwner(id, patch.ownerId)
      return adminSummary(await found(repo.summaryForAdmin(id)))
    },

    async deleteAny(id: string): Promise<void> {
      await remove(await found(repo.find(id)))
    },
  }
}

export type ConversationsService = ReturnType<typeof createConversationsService>
