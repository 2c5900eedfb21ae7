import type { Db } from '../../db/client.js'

export interface AskLogFilter {
  userId?: number
  model?: string
  outcome?: string
  from?: string
  to?: string
}

export function createAskLogRepository(db: Db) {
  return {
    /** Newest first, with the member's username. */
    async page(filter: AskLogFilter, skip: number, take: number) {
      const where = {
        ...(filter.userId ? { userId: filter.userId } : {}),
        ...(filter.model ? { model: filter.model } : {}),
        ...(filter.outcome ? { outcome: filter.outcome } : {}),
        ...(filter.from || filter.to
          ? { createdAt: { ...(filter.from ? { gte: new Date(filter.from) } : {}), ...(filter.to ? { lt: new Date(filter.to) } : {}) } }
          : {}),
      }
      const [rows, total] = await Promise.all([
        db.ask.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip, take, include: { user: { select: { username: true } } } }),
        db.ask.count({ where }),
      ])
      return { rows, total }
    },
  }
}
