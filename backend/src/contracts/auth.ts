import type { Static } from '@sinclair/typebox'
import { Type as T } from '@sinclair/typebox'
import { MyLimits } from './limits.js'

export const Role = T.Union([T.Literal('admin'), T.Literal('member')])
export type Role = Static<typeof Role>

export const Preferences = T.Object({
  language: T.Optional(T.Union([T.Literal('en'), T.Literal('zh-CN')])),
  theme: T.Optional(T.Union([T.Literal('light'), T.Literal('dark'), T.Literal('system')])),
  /** Which key sends a message; the other combination inserts a newline. */
  sendKey: T.Optional(T.Union([T.Literal('Enter'), T.Literal('Shift+Enter'), T.Literal('Ctrl+Enter')])),
}, { additionalProperties: false })
export type Preferences = Static<typeof Preferences>

export const LoginBody = T.Object({
  username: T.String({ minLength: 1, maxLength: 64 }),
  password: T.String({ minLength: 1, maxLength: 256 }),
}, { additionalProperties: false })
export type LoginBody = Static<typeof LoginBody>

/** A user as the user themself (and admins) see it. Never holds a hash or a token. */
export const PublicUser = T.Object({
  id: T.Integer(),
  username: T.String(),
  nickname: T.String(),
  role: Role,
  enabled: T.Boolean(),
  preferences: Preferences,
  createdAt: T.String({ format: 'date-time' }),
  lastActiveAt: T.Union([T.String({ format: 'date-time' }), T.Null()]),
})
export type PublicUser = Static<typeof PublicUser>

export const LoginResponse = T.Object({ user: PublicUser })
export type LoginResponse = Static<typeof LoginResponse>

/** `GET /api/me`: the profile plus (from the limits issue on) limits and what remains of them. */
export const MeResponse = T.Object({
  user: PublicUser,
  limits: T.Union([MyLimits, T.Null()]),
})
export type MeResponse = Static<typeof MeResponse>

export const UpdateMeBody = T.Object({
  nickname: T.Optional(T.String({ maxLength: 40 })),
  preferences: T.Optional(Preferences),
  currentPassword: T.Optional(T.String({ minLength: 1, maxLength: 256 })),
  newPassword: T.Optional(T.String({ minLength: 8, maxLength: 128 })),
}, { additionalProperties: false })
export type UpdateMeBody = Static<typeof UpdateMeBody>
