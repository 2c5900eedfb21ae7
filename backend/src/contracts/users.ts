import type { Static } from '@sinclair/typebox'
import { Type as T } from '@sinclair/typebox'
import { PublicUser, Role } from './auth.js'
import { Page } from './common.js'

/** Usernames: 3–32 of letters, digits, `_`, `.`, `-`; stored and matched in lower case. */
export const Username = T.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$' })

/** A member as an admin sees it. Never holds a hash or a token. */
export const AdminUser = T.Composite([PublicUser, T.Object({
  remark: T.String(),
  updatedAt: T.String({ format: 'date-time' }),
  /** Sessions currently live (not revoked, not expired). */
  activeSessions: T.Integer(),
})])
export type AdminUser = Static<typeof AdminUser>

export const UserSort = T.Union([T.Literal('lastActive'), T.Literal('created'), T.Literal('username')])
export type UserSort = Static<typeof UserSort>

export const ListUsersQuery = T.Object({
  /** Matches username or nickname (substring). */
  q: T.Optional(T.String({ maxLength: 64 })),
  page: T.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
  pageSize: T.Integer({ minimum: 1, maximum: 100, default: 20 }),
  /** lastActive: most recently active first (never-active last); created: newest first; username: A→Z. */
  sort: T.Optional(UserSort),
}, { additionalProperties: false })
export type ListUsersQuery = Static<typeof ListUsersQuery>

export const AdminUserList = Page(AdminUser)
export type AdminUserList = Static<typeof AdminUserList>

export const CreateUserBody = T.Object({
  username: Username,
  password: T.String({ minLength: 1, maxLength: 256 }),
  nickname: T.Optional(T.String({ maxLength: 40 })),
  role: T.Optional(Role),
  remark: T.Optional(T.String({ maxLength: 500 })),
}, { additionalProperties: false })
export type CreateUserBody = Static<typeof CreateUserBody>

export const UpdateUserBody = T.Object({
  nickname: T.Optional(T.String({ maxLength: 40 })),
  role: T.Optional(Role),
  enabled: T.Optional(T.Boolean()),
  remark: T.Optional(T.String({ maxLength: 500 })),
  /** Resets the password; every session of the member ends. */
  password: T.Optional(T.String({ minLength: 1, maxLength: 256 })),
}, { additionalProperties: false })
export type UpdateUserBody = Static<typeof UpdateUserBody>

// User ids are 32-bit in the database: a larger number (1e308 is an "integer" to JSON Schema) is a 400, not a failed query.
export const UserIdParams = T.Object({ id: T.Integer({ minimum: 1, maximum: 2_147_483_647 }) }, { additionalProperties: false })
export type UserIdParams = Static<typeof UserIdParams>

export const RevokedResponse = T.Object({ revoked: T.Integer() })
export type RevokedResponse = Static<typeof RevokedResponse>

/** One of the caller's own sessions (`GET /api/auth/sessions`). */
export const SessionInfo = T.Object({
  id: T.String(),
  createdAt: T.String({ format: 'date-time' }),
  lastSeenAt: T.String({ format: 'date-time' }),
  expiresAt: T.String({ format: 'date-time' }),
  ip: T.String(),
  userAgent: T.String(),
  /** The session this request was made with. */
  current: T.Boolean(),
})
export type SessionInfo = Static<typeof SessionInfo>

export const SessionList = T.Object({ items: T.Array(SessionInfo) })
export type SessionList = Static<typeof SessionList>

export const SessionIdParams = T.Object({ id: T.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false })
export type SessionIdParams = Static<typeof SessionIdParams>
