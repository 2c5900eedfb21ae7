import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Actor } from './users.service.js'
import { Type as T } from '@sinclair/typebox'
import { errors } from '../../contracts/common.js'
import { AdminUser, AdminUserList, CreateUserBody, ListUsersQuery, RevokedResponse, UpdateUserBody, UserIdParams } from '../../contracts/users.js'

function actor(req: FastifyRequest): Actor {
  return { id: req.user.id, sessionId: req.user.sessionId, ip: req.ip }
}

/** `/api/admin/users`: register inside the admin scope. */
const adminUserRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/admin/users', {
    schema: {
      description: 'Members, searched by username or nickname, paginated; sorted by last activity unless `sort` says otherwise.',
      querystring: ListUsersQuery,
      response: { 200: AdminUserList, ...errors(400, 401, 403) },
    },
  }, async req => app.users.list(req.query))

  app.post('/api/admin/users', {
    schema: {
      description: 'Creates a member (or an admin with `role: "admin"`). The username is stored in lower case.',
      body: CreateUserBody,
      response: { 201: AdminUser, ...errors(400, 401, 403, 409, 415) },
    },
  }, async (req, reply) => {
    const user = await app.users.create(req.body)
    // Limits from the defaults for new members as they are now (a user without limits would get them on first use).
    await app.limits.initForUser(user.id, user.role)
    return reply.status(201).send(user)
  })

  app.get('/api/admin/users/:id', {
    schema: {
      params: UserIdParams,
      response: { 200: AdminUser, ...errors(400, 401, 403, 404) },
    },
  }, async req => app.users.get(req.params.id))

  app.patch('/api/admin/users/:id', {
    schema: {
      description: 'Nickname, role, enabled, remark, password reset. Disabling or resetting the password ends every session of the member. An admin cannot disable or demote themself (409 CANNOT_MODIFY_SELF).',
      params: UserIdParams,
      body: UpdateUserBody,
      response: { 200: AdminUser, ...errors(400, 401, 403, 404, 409, 415) },
    },
  }, async req => app.users.update(actor(req), req.params.id, req.body))

  app.delete('/api/admin/users/:id', {
    schema: {
      description: 'Deletes the member together with their sessions, conversations (and all their messages), ask log and limits. Nothing is kept or reassigned. An admin cannot delete themself (409 CANNOT_MODIFY_SELF).',
      params: UserIdParams,
      response: { 204: T.Null(), ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req, reply) => {
    await app.users.remove(actor(req), req.params.id)
    return reply.status(204).send(null)
  })

  app.post('/api/admin/users/:id/logout-everywhere', {
    schema: {
      description: 'Ends every session of the member; their next request answers 401.',
      params: UserIdParams,
      response: { 200: RevokedResponse, ...errors(400, 401, 403, 404) },
    },
  }, async req => ({ revoked: await app.users.logoutEverywhere(req.params.id) }))
}

export default adminUserRoutes
