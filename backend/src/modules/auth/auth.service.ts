import type { Session, User } from '../../generated/prisma/client.js'
import type { UsersRepository } from '../users/users.repository.js'
import type { DeviceCookies } from './device-cookie.js'
import type { LoginThrottle } from './login-throttle.js'
import type { SessionService } from './sessions.service.js'
import { setTimeout as sleep } from 'node:timers/promises'
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
  devices: DeviceCookies
  now: () => Date
  sign: (claims: TokenClaims) => string
}

export interface LoginResult {
  user: User
  session: Session
  token: string
  /** The device cookie's new value (device-cookie.ts). */
  device: string
}

export function createAuthService(deps: AuthServiceDeps) {
  const { users, sessions, throttle, now } = deps

  return {
    /**
     * Checks the password (unknown usernames cost the same time), applies the throttle, and opens
     * a session. Bad username and bad password give the same answer. `device` is the request's
     * device cookie, if any: a genuine one for this account makes the device its own throttle source.
     */
    async login(input: { username: string, password: string, ip: string, userAgent: string, device?: string }): Promise<LoginResult> {
      const account = normalizeUsername(input.username)
      const deviceId = deps.devices.read(input.device, account)
      const source = { ip: input.ip, device: deviceId }
      const started = now().getTime()
      const verdict = throttle.begin(account, source, started)
      if (verdict.blocked) {
        const minutes = Math.ceil(verdict.retryAfterSeconds / 60)
        throw new AppError('LOGIN_THROTTLED', `Too many failed logins; try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, { retryAfterSeconds: verdict.retryAfterSeconds })
      }
      await throttle.saved()
      if (verdict.delayMs > 0)
        await sleep(verdict.delayMs)
      const user = await users.findByUsername(account)
      const ok = user ? await verifyPassword(input.password, user.passwordHash) : await verifyDummy(input.password)
      if (!user || !ok)
        throw new AppError('INVALID_CREDENTIALS', 'Wrong username or password.')
      throttle.succeed(account, source, started)
      if (!user.enabled)
        throw new AppError('ACCOUNT_DISABLED', 'This account is disabled; ask the administrator.')
      const session = await sessions.start(user.id, { ip: input.ip, userAgent: input.userAgent })
      const token = deps.sign({
        sub: String(user.id),
        sid: session.id,
        iat: Math.floor(session.createdAt.getTime() / 1000),
        exp: Math.floor(session.expiresAt.getTime() / 1000),
      })
      return { user, session, token, device: deps.devices.issue(account, deviceId) }
    },
  }
}

export type AuthService = ReturnType<typeof createAuthService>
