import type { Db } from '../../db/client.js'

const summarySelect = { id: true, title: true, model: true, createdAt: true, updatedAt: true } as const

export function createConversationsRepository(db: Db) {
  return {
    /** Own conversations, newest first; `after` continues after that (updatedAt, id). */
    async list(userId: number, opts: { limit: number, skip?: number, after?: { updatedAt: Date, id: string } }) {
      const where = {
        userId,
        ...(opts.after
          ? { OR: [{ updatedAt: { lt: opts.after.updatedAt } }, { updatedAt: opts.after.updatedAt, id: { lt: opts.after.id } }] }
          : {}),
      }
      const [items, total] = await Promise.all([
        db.conversation.findMany({ where, orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }], take: opts.limit + 1, skip: opts.skip, select: summarySelect }),
        db.conversation.count({ where: { userId } }),
      ])
      return { items, total }
    },

    async get(id: string, userId: number) {
      return db.conversation.findFirst({
        where: { id, userId },
        select: {
          ...summarySelect,
          upstreamId: true,
          upstreamConversationId: true,
          messages: {
            orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
            select: { id: true, parentId: true, role: true, content: true, status: true, model: true, finishReason: true, errorCode: true, createdAt: true, updatedAt: true },
          },
        },
      })
    },

    async find(id: string, userId: number) {
      return db.conversation.findFirst({ where: { id, userId }, select: { ...summarySelect, upstreamId: true, upstreamConversationId: true } })
    },

    async rename(id: string, title: string) {
      return db.conversation.update({ where: { id }, data: { title }, select: summarySelect })
    },

    async delete(id: string): Promise<void> {
      await db.conversation.deleteMany({ where: { id } })
    },
  }
}

export type ConversationsRepository = ReturnType<typeof createConversationsRepository>
