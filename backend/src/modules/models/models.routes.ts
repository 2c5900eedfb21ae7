import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../../contracts/common.js'
import { ModelsResponse } from '../../contracts/limits.js'
import { sqlOf } from '../../db/client.js'
import { modelPool } from '../upstreams/status.js'

/** `GET /api/models`: register inside the authenticated scope. */
const modelsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/models', {
    schema: {
      description: 'The models the caller may use, with what remains (total and per model), the state of each rolling window, and whether the model can be used right now (`reason`: the error code an ask would fail with), and what the shared accounts behind it can do now (`pool`).',
      response: { 200: ModelsResponse, ...errors(401) },
    },
  }, async (req) => {
    const models = await app.limits.modelsFor(req.user.id)
    const sql = sqlOf(app.db)
    // What the shared accounts behind each model can do now (cool-down, caps left for the group and
    // the member's part of it, a fallback).
    return { models: models.map((m) => {
      const route = app.upstreams.route(m.key)
      if (!route)
        return m
      const share = app.upstreams.shareOf(sql, route.pool, m.key, req.user.id)
      const reason = m.reason ?? (share && share.remaining <= 0 ? 'CAP_SHARE_USED' : null)
      return { ...m, reason, pool: modelPool(route.pool, m.key, share) }
    }) }
  })
}

export default modelsRoutes
