import type { FastifyInstance } from 'fastify'
import { AdminConversationDetail, AdminConversationList, AdminConversationListQuery, AdminConversationPatch, AdminConversationSummary } from '../../contracts/admin-conversations.js'
import { errors } from '../../contracts/common.js'
import { ConversationParams } from '../../contracts/conversations.js'
import { conversationsService } from './conversations.routes.js'

/** Every member's conversations, for the admin: list, read, rename or reassign, delete. Register inside the admin scope. */
export default async function adminConversationsRoutes(app: FastifyInstance): Promise<void> {
  const service = conversationsService(app)

  app.get('/api/admin/conversations', {
    schema: {
      description: 'Every conversation, newest activity first, with its owner and size; by member (`userId`) and by title (`q`).',
      querystring: AdminConversationListQuery,
      response: { 200: AdminConversationList, ...errors(400, 401, 403) },
    },
  }, async req => service.listAny(req.query as AdminConversationListQuery))

  app.get('/api/admin/conversations/:id', {
    schema: { params: ConversationParams, response: { 200: AdminConversationDetail, ...errors(401, 403, 404) } },
  }, async req => service.getAny((req.params as ConversationParams).id))

  app.patch('/api/admin/conversations/:id', {
    schema: {
      description: 'Renames the conversation and/or gives it to another member (`ownerId`).',
      params: ConversationParams,
      body: AdminConversationPatch,
      response: { 200: AdminConversationSummary, ...errors(400, 401, 403, 404) },
    },
  }, async (req) => {
    const { id } = req.params as ConversationParams
    const patch = req.body as AdminConversationPatch
    const updated = await service.updateAny(id, patch)
    req.log.info({ conversationId: id, ownerId: patch.ownerId, renamed: patch.title !== undefined }, 'admin changed a conversation')
    return updated
  })

  app.delete('/api/admin/conversations/:id', {
    schema: {
      description: 'Deletes the conversation (an answer being written is stopped first; ChatGPT web: also hidden upstream, best effort).',
      params: ConversationParams,
      response: { 204: { type: 'null' }, ...errors(401, 403, 404) },
    },
  }, async (req, reply) => {
    const { id } = req.params as ConversationParams
    await service.deleteAny(id)
    req.log.info({ conversationId: id }, 'admin deleted a conversation')
    return reply.status(204).send()
  })
}
