import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type as T } from '@sinclair/typebox'
import { LoginBody, LoginResponse } from '../../contracts/auth.js'
import { errors } from '../../contracts/common.js'
import { RevokedResponse, SessionIdParams, SessionList } from '../../contracts/users.js'
import { isAppError } from '../../lib/errors.js'
import { toPublicUser } from '../users/users.service.js'
import { SESSION_COOKIE, sessionCookieOptions } from './auth.plugin.js'
import { DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE_SECONDS } from './device-cookie.js'

/** `POST /api/auth/login`: public. Register outside the authenticated scope. */
export const loginRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/api/auth/login', {
    schema: {
      description: 'Logs in. Sets the HttpOnly session cookie `cws_session` (its value also works as `Authorization: Bearer`). Also sets `cws_device`, which marks this browser as one that logged in before. Failures lock out only the same account from the same source (IP, or device; 429 with Retry-After); elsewhere they only slow the answer.',
      body: LoginBody,
      response: { 200: LoginResponse, ...errors(400, 401, 403, 415, 429) },
    },
    config: { public: true },
  }, async (req, reply) => {
    const { user, session, token, device } = await app.auth.login({
      username: req.body.username,
      password: req.body.password,
      ip: req.ip,
      userAgent: req.headers['user-agent'] ?? '',
      device: req.cookies[DEVICE_COOKIE],
    }).catch((err: unknown) => {
      if (isAppError(err))
        req.log.warn({ username: req.body.username.slice(0, 64), ip: req.ip, code: err.code }, 'login refused')
      throw err
    })
    req.log.info({ userId: user.id }, 'logged in')
    reply.setCookie(SESSION_COOKIE, token, sessionCookieOptions(app, req, session.expiresAt))
    reply.setCookie(DEVICE_COOKIE, device, { ...sessionCookieOptions(app, req), path: '/api/auth', maxAge: DEVICE_COOKIE_MAX_AGE_SECONDS })
    return { user: toPublicUser(user) }
  })
}

/** Logout and the caller's own sessions. Register inside the authenticated scope. */
export const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/api/auth/logout', {
    schema: {
      description: 'Ends this session and clears the cookie.',
      response: { 204: T.Null(), ...errors(401, 403) },
    },
  }, async (req, reply) => {
    await app.sessions.revoke(req.user.sessionId, req.user.id)
    reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(app, req))
    return reply.status(204).send(null)
  })

  app.get('/api/auth/sessions', {
    schema: {
      description: 'The caller\'s live sessions, most recently used first.',
      response: { 200: SessionList, ...errors(401) },
    },
  }, async (req) => {
    const rows = await app.sessions.listLive(req.user.id)
    return {
      items: rows.map(s => ({
        id: s.id,
        createdAt: s.createdAt.toISOString(),
        lastSeenAt: s.lastSeenAt.toISOString(),
        expiresAt: s.expiresAt.toISOString(),
        ip: s.ip,
        userAgent: s.userAgent,
        current: s.id === req.user.sessionId,
      })),
    }
  })

  app.delete('/api/auth/sessions/:id', {
    schema: {
      description: 'Ends one of the caller\'s sessions (404 for anyone else\'s).',
      params: SessionIdParams,
      response: { 204: T.Null(), ...errors(401, 403, 404) },
    },
  }, async (req, reply) => {
    await app.sessions.revoke(req.params.id, req.user.id)
    if (req.params.id === req.user.sessionId)
      reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(app, req))
    return reply.status(204).send(null)
  })

  app.post('/api/auth/logout-everywhere', {
    schema: {
      description: 'Ends every session of the caller, this one included.',
      response: { 200: RevokedResponse, ...errors(401, 403) },
    },
  }, async (req, reply) => {
    const revoked = await app.sessions.revokeAll(req.user.id)
    reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(app, req))
    return { revoked }
  })
}
