import type { FastifyInstance } from 'fastify'
import type { ConversationsService } from './conversations.service.js'
import { errors } from '../../contracts/common.js'
import { ConversationDetail, ConversationList, ConversationListQuery, ConversationParams, ConversationSummary, RenameConversationBody } from '../../contracts/conversations.js'
import { createConversationsRepository } from './conversations.repository.js'
import { createConversationsService } from './conversations.service.js'

/** The conversations service on this app's database, providers and chat engine. */
export function conversationsService(app: FastifyInstance): ConversationsService {
  return createConversationsService({
    repo: createConversationsRepository(app.db),
    providerOf: (upstreamId, accountId) => app.upstreams.provider(upstreamId, accountId),
    stopConversation: id => app.asks.registry.stopConversation(id),
    logger: app.log.child({ module: 'conversations' }),
  })
}

/** Own conversations. Register inside the authenticated scope, after the chat plugin. */
export default async function conversationsRoutes(app: FastifyInstance): Promise<void> {
  const service = conversationsService(app)

  app.get('/api/conversations', {
    schema: { querystring: ConversationListQuery, response: { 200: ConversationList, ...errors(400, 401) } },
  }, async req => service.list(req.user!.id, req.query as ConversationListQuery))

  app.get('/api/conversations/:id', {
    schema: { params: ConversationParams, response: { 200: ConversationDetail, ...errors(401, 404) } },
  }, async req => service.get(req.user!.id, (req.params as ConversationParams).id))

  app.patch('/api/conversations/:id', {
    schema: { params: ConversationParams, body: RenameConversationBody, response: { 200: ConversationSummary, ...errors(400, 401, 404) } },
  }, async req => service.rename(req.user!.id, (req.params as ConversationParams).id, (req.body as RenameConversationBody).title))

  app.delete('/api/conversations/:id', {
    schema: { params: ConversationParams, response: { 204: { type: 'null' }, ...errors(401, 404) } },
  }, async (req, reply) => {
    await service.delete(req.user!.id, (req.params as ConversationParams).id)
    return reply.status(204).send()
  })
}
