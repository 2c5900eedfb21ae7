import type { Static } from '@sinclair/typebox'
import { Type as T } from '@sinclair/typebox'
import { ConversationSummary, MessageView } from './conversations.js'

/** Whose conversation it is. `nickname` is "" when the member has none. */
export const ConversationOwner = T.Object({
  id: T.Integer(),
  username: T.String(),
  nickname: T.String(),
})
export type ConversationOwner = Static<typeof ConversationOwner>

/** A conversation as the admin sees it: any member's, with its owner, upstream and size. */
export const AdminConversationSummary = T.Object({
  ...ConversationSummary.properties,
  upstreamId: T.String(),
  owner: ConversationOwner,
  /** Questions and answers stored (all branches). */
  messageCount: T.Integer(),
})
export type AdminConversationSummary = Static<typeof AdminConversationSummary>

export const AdminConversationDetail = T.Object({
  ...AdminConversationSummary.properties,
  messages: T.Array(MessageView),
})
export type AdminConversationDetail = Static<typeof AdminConversationDetail>

/**
 * Newest first (last activity). Either `cursor` (from `nextCursor`) or `page` (1-based); `limit`
 * defaults to 20. `userId`: only that member's; `q`: the title contains it (case-insensitive).
 */
export const AdminConversationListQuery = T.Object({
  cursor: T.Optional(T.String({ maxLength: 200 })),
  page: T.Optional(T.Integer({ minimum: 1, maximum: 100_000 })),
  limit: T.Optional(T.Integer({ minimum: 1, maximum: 100, default: 20 })),
  userId: T.Optional(T.Integer({ minimum: 1, maximum: 2_147_483_647 })),
  q: T.Optional(T.String({ maxLength: 200 })),
}, { additionalProperties: false })
export type AdminConversationListQuery = Static<typeof AdminConversationListQuery>

export const AdminConversationList = T.Object({
  items: T.Array(AdminConversationSummary),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: T.Union([T.String(), T.Null()]),
  total: T.Integer(),
})
export type AdminConversationList = Static<typeof AdminConversationList>

/** Rename, and/or give the conversation to another member (`ownerId`: an existing user, else 404). */
export const AdminConversationPatch = T.Object({
  title: T.Optional(T.String({ minLength: 1, maxLength: 200 })),
  ownerId: T.Optional(T.Integer({ minimum: 1, maximum: 2_147_483_647 })),
}, { additionalProperties: false, minProperties: 1 })
export type AdminConversationPatch = Static<typeof AdminConversationPatch>
