import type { Session, User } from '../../generated/prisma/client.js'
import type { UsersRepository } from '../users/users.repository.js'
import type { LoginThrottle } from './login-throttle.js'
import type { SessionService } from './sessions.service.js'
import { AppError } from '../../lib/errors.js'
import { verifyDummy, verifyPassword } from '../../lib/password.js'
import { normalizeUsername } from '../users/users.service.js'

/** What a session token carries: the user id (`sub`), the Session row id (`sid`), `iat`, `exp`. */
export interface TokenClaims {
  sub: string
  sid: string
  iat: number
  exp: number
}

export interface AuthServiceDeps {
  users: UsersRepository
  sessions: SessionService
  throttle: LoginThrottle
  now: () => Date
  sign: (claims: TokenClaims) => string
}

export interface LoginResult { user: User, session: Session, token: string }

export function createAuthService(deps: AuthServiceDeps) {
  const { users, sessions, throttle, now } = deps

  return {
    /**
     * Checks the password (unknown usernames cost the same time), applies the throttle, and opens
     * a session. Bad username and bad password give the same answer.
     */
    async login(input: { username: string, password: string, ip: string, userAgent: string }): Promise<LoginResult> {
      const account = normalizeUsername(input.username)
      const started = now().getTime()
      const verdict = throttle.begin(account, input.ip, started)
      if (verdict.blocked) {
        const minutes = Math.ceil(verdict.retryAfterSeconds / 60)
        throw new AppError('LOGIN_THROTTLED', `Too many failed logins; try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, { retryAfterSeconds: verdict.retryAfterSeconds })
      }
      const user = await users.findByUsername(account)
      const ok = user ? await verifyPassword(input.password, user.passwordHash) : await verifyDummy(input.password)
      if (!user || !ok)
        throw new AppError('INVALID_CREDENTIALS', 'Wrong username or password.')
      throttle.succeed(account, input.ip, started)
      if (!user.enabled)
        throw new AppError('ACCOUNT_DISABLED', 'This account is disabled; ask the administrator.')
      const session = await sessions.start(user.id, { ip: input.ip, userAgent: input.userAgent })
      const token = deps.sign({
        sub: String(user.id),
        sid: session.id,
        iat: Math.floor(session.createdAt.getTime() / 1000),
        exp: Math.floor(session.expiresAt.getTime() / 1000),
      })
      return { user, session, token }
    },
  }
}

export type AuthService = ReturnType<typeof createAuthService>
