import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../../contracts/common.js'
import { ModelsResponse } from '../../contracts/limits.js'

/** `GET /api/models`: register inside the authenticated scope. */
const modelsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/models', {
    schema: {
      description: 'The models the caller may use, with what remains (total and per model), the state of each rolling window, and whether the model can be used right now (`reason`: the error code an ask would fail with).',
      response: { 200: ModelsResponse, ...errors(401) },
    },
  }, async req => ({ models: await app.limits.modelsFor(req.user.id) }))
}

export default modelsRoutes
