import type { FastifyInstance } from 'fastify'
import type { AskLogPage as AskLogPageType } from '../../contracts/chat.js'
import { AskLogPage, AskLogQuery } from '../../contracts/chat.js'
import { errors } from '../../contracts/common.js'

/** `GET /api/admin/asks`: the ask log, newest first. Register inside the admin scope. */
export default async function askLogRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/admin/asks', {
    schema: { querystring: AskLogQuery, response: { 200: AskLogPage, ...errors(400, 401, 403) } },
  }, async (req): Promise<AskLogPageType> => {
    const q = req.query as AskLogQuery
    const page = q.page ?? 1
    const pageSize = q.pageSize ?? 50
    const where = {
      ...(q.userId ? { userId: q.userId } : {}),
      ...(q.model ? { model: q.model } : {}),
      ...(q.outcome ? { outcome: q.outcome } : {}),
    }
    const [rows, total] = await Promise.all([
      app.db.ask.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: (page - 1) * pageSize, take: pageSize, include: { user: { select: { username: true } } } }),
      app.db.ask.count({ where }),
    ])
    const iso = (d: Date | null): string | null => (d ? d.toISOString() : null)
    return {
      page,
      pageSize,
      total,
      items: rows.map(({ user, ...a }) => ({
        ...a,
        username: user.username,
        createdAt: a.createdAt.toISOString(),
        startedAt: iso(a.startedAt),
        endedAt: iso(a.endedAt),
      })),
    }
  })
}
