import type { FastifyInstance } from 'fastify'
import type { AskLogPage as AskLogPageType } from '../../contracts/chat.js'
import { AskLogPage, AskLogQuery } from '../../contracts/chat.js'
import { errors } from '../../contracts/common.js'
import { createAskLogRepository } from './asklog.repository.js'

/** `GET /api/admin/asks`: the ask log, newest first. Register inside the admin scope. */
export default async function askLogRoutes(app: FastifyInstance): Promise<void> {
  const repo = createAskLogRepository(app.db)
  app.get('/api/admin/asks', {
    schema: { querystring: AskLogQuery, response: { 200: AskLogPage, ...errors(400, 401, 403) } },
  }, async (req): Promise<AskLogPageType> => {
    const q = req.query as AskLogQuery
    const page = q.page ?? 1
    const pageSize = q.pageSize ?? 50
    const { rows, total } = await repo.page(q, (page - 1) * pageSize, pageSize)
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
