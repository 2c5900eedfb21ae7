import type { Preferences as PreferencesT, PublicUser, Role, UpdateMeBody } from '../../contracts/auth.js'
import type { AdminUser, AdminUserList, CreateUserBody, ListUsersQuery, UpdateUserBody } from '../../contracts/users.js'
import type { User } from '../../generated/prisma/client.js'
import type { UserPatch, UsersRepository } from './users.repository.js'
import { Value } from '@sinclair/typebox/value'
import { Preferences } from '../../contracts/auth.js'
import { AppError } from '../../lib/errors.js'
import { checkPasswordPolicy, generatePassword, hashPassword, verifyPassword } from '../../lib/password.js'

/** What this service needs of the members' sessions (the auth module provides it). */
export interface MemberSessions {
  countLive: (userIds: number[]) => Promise<Map<number, number>>
  revokeAll: (userId: number, exceptId?: string) => Promise<number>
}

/** What this service needs of the login throttle (wrong current passwords count as failed logins). */
export interface PasswordThrottle {
  check: (account: string, ip: string, now: number) => { blocked: boolean, retryAfterSeconds: number }
  fail: (account: string, ip: string, now: number) => void
}

export interface UsersServiceDeps {
  repo: UsersRepository
  sessions: MemberSessions
  throttle: PasswordThrottle
  now: () => Date
  /** A member was changed in a way their open streams must follow (role, disabled, deleted). */
  onChanged?: (c: { userId: number, role?: Role, disabled?: boolean, deleted?: boolean }) => void
}

/** Who is acting: the authenticated user of the request. */
export interface Actor { id: number, sessionId: string, ip: string }

export function parsePreferences(json: string): PreferencesT {
  try {
    const value: unknown = JSON.parse(json)
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return {}
    const clean = Value.Clean(Preferences, structuredClone(value))
    return Value.Check(Preferences, clean) ? clean as PreferencesT : {}
  }
  catch {
    return {}
  }
}

export function toPublicUser(u: User): PublicUser {
  return {
    id: u.id,
    username: u.username,
    nickname: u.nickname,
    role: u.role === 'admin' ? 'admin' : 'member',
    enabled: u.enabled,
    preferences: parsePreferences(u.preferences),
    createdAt: u.createdAt.toISOString(),
    lastActiveAt: u.lastActiveAt ? u.lastActiveAt.toISOString() : null,
  }
}

function toAdminUser(u: User, activeSessions: number): AdminUser {
  return { ...toPublicUser(u), remark: u.remark, updatedAt: u.updatedAt.toISOString(), activeSessions }
}

export function normalizeUsername(username: string): string {
  return username.toLowerCase()
}

/** Members: the admin's management API, the user's own profile, and the first admin at boot. */
export function createUsersService(deps: UsersServiceDeps) {
  const { repo, sessions, now } = deps

  async function mustGet(id: number): Promise<User> {
    const user = await repo.findById(id)
    if (!user)
      throw new AppError('NOT_FOUND', 'No such user.')
    return user
  }

  async function adminView(u: User): Promise<AdminUser> {
    const counts = await sessions.countLive([u.id])
    return toAdminUser(u, counts.get(u.id) ?? 0)
  }

  return {
    async get(id: number): Promise<AdminUser> {
      return adminView(await mustGet(id))
    },

    async me(id: number): Promise<PublicUser> {
      return toPublicUser(await mustGet(id))
    },

    async list(query: ListUsersQuery): Promise<AdminUserList> {
      const { page, pageSize } = query
      const { rows, total } = await repo.list({ q: query.q, sort: query.sort ?? 'lastActive', skip: (page - 1) * pageSize, take: pageSize })
      const counts = await sessions.countLive(rows.map(r => r.id))
      return { items: rows.map(r => toAdminUser(r, counts.get(r.id) ?? 0)), total, page, pageSize }
    },

    async create(body: CreateUserBody): Promise<AdminUser> {
      const username = normalizeUsername(body.username)
      checkPasswordPolicy(body.password, username)
      if (await repo.findByUsername(username))
        throw new AppError('USERNAME_TAKEN', `The username "${username}" is taken.`)
      const passwordHash = await hashPassword(body.password)
      try {
        const user = await repo.create({ username, passwordHash, nickname: body.nickname?.trim() ?? '', role: body.role ?? 'member', remark: body.remark ?? '', now: now() })
        return toAdminUser(user, 0)
      }
      catch (err) {
        if ((err as { code?: string }).code === 'P2002')
          throw new AppError('USERNAME_TAKEN', `The username "${username}" is taken.`)
        throw err
      }
    },

    /** Admin edit. Disabling or resetting the password ends every session of the member. */
    async update(actor: Actor, id: number, body: UpdateUserBody): Promise<AdminUser> {
      const target = await mustGet(id)
      if (id === actor.id && (body.enabled === false || (body.role !== undefined && body.role !== 'admin')))
        throw new AppError('CANNOT_MODIFY_SELF', 'You cannot disable or demote your own account; ask another admin.')
      const patch: UserPatch = {}
      if (body.nickname !== undefined)
        patch.nickname = body.nickname.trim()
      if (body.remark !== undefined)
        patch.remark = body.remark
      if (body.role !== undefined)
        patch.role = body.role satisfies Role
      if (body.enabled !== undefined)
        patch.enabled = body.enabled
      if (body.password !== undefined) {
        checkPasswordPolicy(body.password, target.username)
        patch.passwordHash = await hashPassword(body.password)
        patch.passwordChangedAt = now()
      }
      const updated = await repo.update(id, patch)
      if (body.enabled === false && target.enabled)
        deps.onChanged?.({ userId: id, disabled: true })
      if (body.role !== undefined && body.role !== target.role)
        deps.onChanged?.({ userId: id, role: body.role })
      if (body.password !== undefined || body.enabled === false)
        await sessions.revokeAll(id)
      return adminView(updated)
    },

    /**
     * Deletes a member. Their sessions, conversations (with every message), ask log and limits are
     * deleted with them; nothing is kept or reassigned.
     */
    async remove(actor: Actor, id: number): Promise<void> {
      if (id === actor.id)
        throw new AppError('CANNOT_MODIFY_SELF', 'You cannot delete your own account; ask another admin.')
      if (!(await repo.delete(id)))
        throw new AppError('NOT_FOUND', 'No such user.')
      deps.onChanged?.({ userId: id, deleted: true })
    },

    async logoutEverywhere(id: number): Promise<number> {
      await mustGet(id)
      return sessions.revokeAll(id)
    },

    /**
     * The user's own profile edit. A password change needs the current password (wrong attempts
     * count towards the login throttle) and ends the user's other sessions.
     */
    async updateMe(actor: Actor, body: UpdateMeBody): Promise<PublicUser> {
      const user = await mustGet(actor.id)
      const patch: UserPatch = {}
      if (body.nickname !== undefined)
        patch.nickname = body.nickname.trim()
      if (body.preferences !== undefined)
        patch.preferences = JSON.stringify({ ...parsePreferences(user.preferences), ...body.preferences })
      if (body.currentPassword !== undefined && body.newPassword === undefined)
        throw new AppError('BAD_REQUEST', 'newPassword is missing.')
      if (body.newPassword !== undefined) {
        const t = now().getTime()
        const verdict = deps.throttle.check(user.username, actor.ip, t)
        if (verdict.blocked)
          throw new AppError('LOGIN_THROTTLED', `Too many wrong passwords; try again in ${verdict.retryAfterSeconds} seconds.`, { retryAfterSeconds: verdict.retryAfterSeconds })
        if (body.currentPassword === undefined)
          throw new AppError('WRONG_PASSWORD', 'Enter your current password to set a new one.')
        if (!(await verifyPassword(body.currentPassword, user.passwordHash))) {
          deps.throttle.fail(user.username, actor.ip, t)
          throw new AppError('WRONG_PASSWORD', 'The current password is wrong.')
        }
        checkPasswordPolicy(body.newPassword, user.username)
        patch.passwordHash = await hashPassword(body.newPassword)
        patch.passwordChangedAt = now()
      }
      const updated = Object.keys(patch).length ? await repo.update(actor.id, patch) : user
      if (body.newPassword !== undefined)
        await sessions.revokeAll(actor.id, actor.sessionId)
      return toPublicUser(updated)
    },

    /**
     * On an empty user table: creates the admin from `admin.username` / `admin.password`, or with a
     * generated password that is handed to `announce` (once: the table is not empty afterwards).
     */
    async ensureFirstAdmin(cfg: { username: string, password?: string }, announce: (username: string, password: string) => void): Promise<User | null> {
      if (await repo.count() > 0)
        return null
      const username = normalizeUsername(cfg.username)
      const password = cfg.password ?? generatePassword()
      if (cfg.password !== undefined) {
        try {
          checkPasswordPolicy(cfg.password, username)
        }
        catch (err) {
          throw new Error(`admin.password is not acceptable: ${(err as Error).message} Set another one (or remove it to have one generated).`)
        }
      }
      const user = await repo.create({ username, passwordHash: await hashPassword(password), nickname: '', role: 'admin', remark: '', now: now() })
      if (cfg.password === undefined)
        announce(username, password)
      return user
    },
  }
}

export type UsersService = ReturnType<typeof createUsersService>
