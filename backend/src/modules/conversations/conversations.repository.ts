import type { Db } from '../../db/client.js'
import type { Prisma } from '../../generated/prisma/client.js'

const summarySelect = { id: true, title: true, model: true, createdAt: true, updatedAt: true } as const
/** What the admin's view adds: upstream, owner, size. */
const adminSelect = { ...summarySelect, upstreamId: true, user: { select: { id: true, username: true, nickname: true } }, _count: { select: { messages: true } } } as const

export interface ListFilter {
  /** Only this member's conversations (a member's own list always sets it). */
  userId?: number
  /** The title contains this (SQLite LIKE: case-insensitive for Latin letters). */
  titleContains?: string
}

export interface ListPage {
  limit: number
  skip?: number
  /** Continue after this (updatedAt, id), newest first. */
  after?: { updatedAt: Date, id: string }
}

function where(f: ListFilter): Prisma.ConversationWhereInput {
  return {
    ...(f.userId !== undefined ? { userId: f.userId } : {}),
    ...(f.titleContains ? { title: { contains: f.titleContains } } : {}),
  }
}

function pageWhere(f: ListFilter, p: ListPage): Prisma.ConversationWhereInput {
  if (!p.after)
    return where(f)
  return {
    ...where(f),
    OR: [{ updatedAt: { lt: p.after.updatedAt } }, { updatedAt: p.after.updatedAt, id: { lt: p.after.id } }],
  }
}

const order = [{ updatedAt: 'desc' }, { id: 'desc' }] satisfies Prisma.ConversationOrderByWithRelationInput[]

/**
 * Conversations for their owners and for the admin. `userId` given: only that member's (another
 * member's conversation is simply not found); omitted: anyone's (admin routes only).
 */
export function createConversationsRepository(db: Db) {
  /** Each row with the ask whose answer is being written in it (queued or running), if any. */
  async function withActive<T extends { id: string }>(rows: T[]): Promise<Array<T & { activeRequestId: string | null }>> {
    const asks = rows.length
      ? await db.ask.findMany({ where: { conversationId: { in: rows.map(r => r.id) }, outcome: { in: ['queued', 'running'] } }, select: { id: true, conversationId: true } })
      : []
    const byConversation = new Map(asks.map(a => [a.conversationId, a.id]))
    return rows.map(r => ({ ...r, activeRequestId: byConversation.get(r.id) ?? null }))
  }
  const one = async <T extends { id: string }>(row: Promise<T | null>): Promise<(T & { activeRequestId: string | null }) | null> => {
    const r = await row
    return r ? (await withActive([r]))[0]! : null
  }

  return {
    /** Own conversations, newest first (limit + 1 rows: one more tells there is a next page). */
    async list(userId: number, page: ListPage) {
      const [items, total] = await Promise.all([
        db.conversation.findMany({ where: pageWhere({ userId }, page), orderBy: order, take: page.limit + 1, skip: page.skip, select: summarySelect }),
        db.conversation.count({ where: { userId } }),
      ])
      return { items: await withActive(items), total }
    },

    /** Anyone's conversations, with owner and size, newest first (limit + 1 rows). */
    async listAll(filter: ListFilter, page: ListPage) {
      const [items, total] = await Promise.all([
        db.conversation.findMany({ where: pageWhere(filter, page), orderBy: order, take: page.limit + 1, skip: page.skip, select: adminSelect }),
        db.conversation.count({ where: where(filter) }),
      ])
      return { items: await withActive(items), total }
    },

    async get(id: string, userId?: number) {
      return one(db.conversation.findFirst({
        where: { id, ...(userId !== undefined ? { userId } : {}) },
        select: {
          ...adminSelect,
          upstreamConversationId: true,
          messages: {
            orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
            select: { id: true, parentId: true, role: true, content: true, status: true, model: true, finishReason: true, errorCode: true, createdAt: true, updatedAt: true },
          },
        },
      }))
    },

    async find(id: string, userId?: number) {
      return db.conversation.findFirst({ where: { id, ...(userId !== undefined ? { userId } : {}) }, select: { ...summarySelect, upstreamId: true, upstreamConversationId: true, accountId: true } })
    },

    async rename(id: string, title: string) {
      return one(db.conversation.update({ where: { id }, data: { title }, select: summarySelect }))
    },

    /** Gives the conversation to another member (not counted as activity: `updatedAt` stays). */
    async setOwner(id: string, userId: number): Promise<void> {
      await db.conversation.update({ where: { id }, data: { userId } })
    },

    async summaryForAdmin(id: string) {
      return one(db.conversation.findUnique({ where: { id }, select: adminSelect }))
    },

    async userExists(id: number): Promise<boolean> {
      return (await db.user.count({ where: { id } })) > 0
    },

    async delete(id: string): Promise<void> {
      await db.conversation.deleteMany({ where: { id } })
    },
  }
}

export type ConversationsRepository = ReturnType<typeof createConversationsRepository>
