/**
 * Authentication: sessions, the session cookie, JWT, the first admin.
 *
 * HOW TO PROTECT ROUTES. Authentication is a scope, not a list of URLs. In `app.ts`:
 *
 *   await app.register(async (user) => {
 *     user.addHook('onRequest', user.authenticate)        // 401 unless a live session
 *     await user.register(myRoutes)                        // request.user is set in here
 *     await user.register(async (admin) => {
 *       admin.addHook('onRequest', admin.requireAdmin)     // and 403 unless role admin
 *       await admin.register(myAdminRoutes)                // put every /api/admin/* route here
 *     })
 *   })
 *
 * Inside those scopes `request.user` is `{ id, username, role, sessionId }` (outside it is null).
 * A request is authenticated by the `cws_session` cookie or `Authorization: Bearer <token>`; the
 * token is an HS256 JWT (algorithm pinned on sign and verify, `exp`, `sub`, `sid` required) naming a
 * Session row, and the row must be live (not revoked, not idle longer than `auth.session_idle_hours`,
 * not past `auth.session_max_days` after login) and its user enabled, on every request. So logout,
 * password change, disabling a user and "log out everywhere" take effect on the very next request.
 *
 * Open streams are tied to their session and role (live-streams.ts): they close within the request
 * that ended the session or changed the role.
 *
 * Time comes from `app.now()`. Decorates `app.sessions`, `app.auth`, `app.loginThrottle` and
 * `app.liveStreams`; the
 * users module (users.plugin.ts) builds on them.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Role } from '../../contracts/auth.js'
import type { AuthService, TokenClaims } from './auth.service.js'
import type { SessionService } from './sessions.service.js'
import fastifyCookie from '@fastify/cookie'
import fastifyJwt from '@fastify/jwt'
import fp from 'fastify-plugin'
import { AppError } from '../../lib/errors.js'
import { createUsersRepository } from '../users/users.repository.js'
import { createAuthService } from './auth.service.js'
import { createDeviceCookies } from './device-cookie.js'
import { loadJwtSecret } from './jwt-secret.js'
import { LiveStreams } from './live-streams.js'
import { createLoginFailuresRepository } from './login-failures.repository.js'
import { LoginThrottle } from './login-throttle.js'
import { createSessionsRepository } from './sessions.repository.js'
import { createSessionService } from './sessions.service.js'

export const SESSION_COOKIE = 'cws_session'

/** The authenticated user of a request. */
export interface AuthUser {
  id: number
  username: string
  role: Role
  sessionId: string
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenClaims
    user: AuthUser
  }
}

type Hook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: 401 unless the request carries a live session; sets `request.user`. */
    authenticate: Hook
    /** onRequest hook, after `authenticate`: 403 unless the user is an admin. */
    requireAdmin: Hook
    sessions: SessionService
    auth: AuthService
    /** Failed logins (and wrong current passwords) per account and source, kept across restarts. */
    loginThrottle: LoginThrottle
    /** Open streams, closed when their session ends or their role no longer allows them. */
    liveStreams: LiveStreams
  }
}

/** Cookie attributes of the session cookie for this request. */
export function sessionCookieOptions(app: FastifyInstance, req: FastifyRequest, expires?: Date) {
  const mode = app.config.server.cookie_secure
  const secure = mode === 'always' || (mode === 'auto' && req.protocol === 'https')
  return { httpOnly: true, sameSite: 'strict' as const, path: '/', secure, ...(expires ? { expires } : {}) }
}

const UNAUTHORIZED = 'Log in to continue.'

/**
 * Tokens whose signature and claims were verified, by their exact text, until their `exp`: a
 * member's stream of requests skips the HMAC (the session row is still checked every time, so a
 * revoked session fails at once). Bounded; the oldest entry goes first.
 */
class VerifiedTokens {
  private readonly byToken = new Map<string, TokenClaims>()
  constructor(private readonly max: number) {}

  get(token: string, nowMs: number): TokenClaims | undefined {
    const claims = this.byToken.get(token)
    if (claims && claims.exp * 1000 <= nowMs) {
      this.byToken.delete(token)
      return undefined
    }
    return claims
  }

  set(token: string, claims: TokenClaims): void {
    if (this.byToken.size >= this.max)
      this.byToken.delete(this.byToken.keys().next().value!)
    this.byToken.set(token, claims)
  }
}

export default fp(async (app) => {
  const { auth: cfg } = app.config
  const secret = loadJwtSecret(cfg.jwt_secret, app.dataDir)

  await app.register(fastifyCookie)
  await app.register(fastifyJwt, {
    secret,
    sign: { algorithm: 'HS256' },
    verify: { algorithms: ['HS256'], requiredClaims: ['exp', 'sub', 'sid'] },
  })

  const windowMs = cfg.login_window_minutes * 60_000
  const failures = createLoginFailuresRepository(app.db)
  const throttle = new LoginThrottle({
    maxFailures: cfg.login_max_failures,
    windowMs,
    store: failures,
    onError: err => app.log.error({ err }, 'could not store the failed-login counts'),
  })
  throttle.load(await failures.loadSince(app.now().getTime() - windowMs), app.now().getTime())
  // The last counts reach the database before it closes (db's onClose runs after ours).
  app.addHook('onClose', () => throttle.saved())
  const liveStreams = new LiveStreams()
  const sessions = createSessionService({
    repo: createSessionsRepository(app.db),
    now: app.now,
    idleMs: cfg.session_idle_hours * 3600_000,
    maxMs: cfg.session_max_days * 86_400_000,
    onEnded: e => liveStreams.changed({ type: 'sessions-ended', ...e }),
  })
  const authService = createAuthService({ users: createUsersRepository(app.db), sessions, throttle, devices: createDeviceCookies(secret), now: app.now, sign: claims => app.jwt.sign(claims) })
  app.decorate('sessions', sessions)
  app.decorate('auth', authService)
  app.decorate('loginThrottle', throttle)
  app.decorate('liveStreams', liveStreams)

  const purged = await sessions.purge()
  if (purged)
    app.log.debug({ purged }, 'ended sessions removed')

  function bearer(req: FastifyRequest): { token: string, fromCookie: boolean } | null {
    const header = req.headers.authorization
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
      if (!m)
        throw new AppError('UNAUTHORIZED', 'The Authorization header must be "Bearer <token>".')
      return { token: m[1]!, fromCookie: false }
    }
    const cookie = req.cookies[SESSION_COOKIE]
    return cookie ? { token: cookie, fromCookie: true } : null
  }

  const verified = new VerifiedTokens(2000)

  app.decorate('authenticate', async (req: FastifyRequest, reply: FastifyReply) => {
    const found = bearer(req)
    if (!found)
      throw new AppError('UNAUTHORIZED', UNAUTHORIZED)
    try {
      const nowMs = app.now().getTime()
      let claims = verified.get(found.token, nowMs)
      if (!claims) {
        try {
          claims = app.jwt.verify<TokenClaims>(found.token)
        }
        catch {
          throw new AppError('UNAUTHORIZED', UNAUTHORIZED)
        }
        if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string' || !/^\d{1,15}$/.test(claims.sub)
          || typeof claims.exp !== 'number' || claims.exp * 1000 <= nowMs) {
          throw new AppError('UNAUTHORIZED', UNAUTHORIZED)
        }
        verified.set(found.token, claims)
      }
      const { user } = await sessions.resolve(claims.sid, Number(claims.sub))
      req.user = { id: user.id, username: user.username, role: user.role === 'admin' ? 'admin' : 'member', sessionId: claims.sid }
    }
    catch (err) {
      // A dead cookie is of no use to the browser; drop it.
      if (found.fromCookie)
        reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(app, req))
      throw err
    }
  })

  app.decorate('requireAdmin', async (req: FastifyRequest) => {
    if (!req.user)
      throw new AppError('UNAUTHORIZED', UNAUTHORIZED)
    if (req.user.role !== 'admin')
      throw new AppError('FORBIDDEN', 'Only an administrator may do this.')
  })
}, { name: 'auth', dependencies: ['db'] })
