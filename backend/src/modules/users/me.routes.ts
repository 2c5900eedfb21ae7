import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MeResponse, UpdateMeBody } from '../../contracts/auth.js'
import { errors } from '../../contracts/common.js'

/** The caller's own profile. Register inside the authenticated scope. */
const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/me', {
    schema: {
      description: 'The caller\'s profile, role and preferences; `limits` is filled by the limits module (null until then).',
      response: { 200: MeResponse, ...errors(401) },
    },
  }, async (req) => {
    return { user: await app.users.me(req.user.id), limits: await app.limits.mine(req.user.id) }
  })

  app.patch('/api/me', {
    schema: {
      description: 'Nickname, preferences (merged key by key) and password change. A new password needs `currentPassword` and ends the caller\'s other sessions. Role and limits are not writable here; unknown fields are refused.',
      body: UpdateMeBody,
      response: { 200: MeResponse, ...errors(400, 401, 403, 415, 429) },
    },
  }, async (req) => {
    const user = await app.users.updateMe({ id: req.user.id, sessionId: req.user.sessionId, ip: req.ip }, req.body)
    return { user, limits: await app.limits.mine(req.user.id) }
  })
}

export default meRoutes
