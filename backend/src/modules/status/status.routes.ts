import type { FastifyInstance } from 'fastify'
import type { StatusResponse } from '../../contracts/chat.js'
import { StatusResponse as StatusSchema } from '../../contracts/chat.js'
import { errors } from '../../contracts/common.js'
import { createStatusService } from './status.service.js'

/** `GET /api/status` for every member. Register inside the authenticated scope, after the chat plugin. */
export default async function statusRoutes(app: FastifyInstance): Promise<void> {
  const service = createStatusService({
    db: app.db,
    upstreams: () => app.upstreams.pools().map(p => p.statusView()),
    now: () => app.now(),
  })
  app.get('/api/status', {
    schema: { response: { 200: StatusSchema, ...errors(401) } },
  }, async (): Promise<StatusResponse> => service.status())
}
