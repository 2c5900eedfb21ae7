import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../../contracts/common.js'
import { ApplyLimitsBody, ApplyLimitsResponse, Limits, LimitsPatch } from '../../contracts/limits.js'
import { UserIdParams } from '../../contracts/users.js'

/** Admin API for limits: register inside the admin scope. */
const limitsAdminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/admin/users/:id/limits', {
    schema: {
      description: 'A member\'s limits. `modelAsks` lists the member\'s own per-model counts; a model missing there takes the default for new members (admins: unlimited).',
      params: UserIdParams,
      response: { 200: Limits, ...errors(400, 401, 403, 404) },
    },
  }, async req => app.limits.get(req.params.id))

  app.patch('/api/admin/users/:id/limits', {
    schema: {
      description: 'Partial update: fields given replace the stored ones, column by column (a running ask never overwrites them). `modelAsks` merges per model; `null` removes a model\'s own count. Setting a count makes it the new configured amount.',
      params: UserIdParams,
      body: LimitsPatch,
      response: { 200: Limits, ...errors(400, 401, 403, 404, 415) },
    },
  }, async req => app.limits.patch(req.params.id, req.body))

  app.post('/api/admin/limits/apply', {
    schema: {
      description: 'Applies one partial limits template to several members. Nothing is changed if any id is unknown.',
      body: ApplyLimitsBody,
      response: { 200: ApplyLimitsResponse, ...errors(400, 401, 403, 404, 415) },
    },
  }, async req => ({ updated: await app.limits.apply(req.body.userIds, req.body.limits) }))

  app.get('/api/admin/limits/defaults', {
    schema: {
      description: 'The limits new members start with.',
      response: { 200: Limits, ...errors(401, 403) },
    },
  }, async () => app.limits.getDefaults())

  app.put('/api/admin/limits/defaults', {
    schema: {
      description: 'Replaces the limits new members start with; fields not given take the built-in defaults (every model, unlimited, one ask at a time, any time of day).',
      body: LimitsPatch,
      response: { 200: Limits, ...errors(400, 401, 403, 415) },
    },
  }, async req => app.limits.putDefaults(req.body))
}

export default limitsAdminRoutes
