import type { Static } from '@sinclair/typebox'
import { Type as T } from '@sinclair/typebox'

const DateTime = T.String({ format: 'date-time' })
const Id = T.String({ minLength: 1, maxLength: 64 })

export const MessageRole = T.Union([T.Literal('user'), T.Literal('assistant')])
export type MessageRole = Static<typeof MessageRole>

/** `streaming` while an answer is being written; then `done`, `stopped`, `error` or `interrupted` (server restarted mid-answer). */
export const MessageStatus = T.Union([
  T.Literal('done'),
  T.Literal('streaming'),
  T.Literal('stopped'),
  T.Literal('error'),
  T.Literal('interrupted'),
])
export type MessageStatus = Static<typeof MessageStatus>

export const ConversationSummary = T.Object({
  id: T.String(),
  title: T.String(),
  model: T.String(),
  createdAt: DateTime,
  updatedAt: DateTime,
  /**
   * The ask whose answer is being written in this conversation (waiting in the queue or streaming),
   * or null. Attach to it with `GET /api/chat/:requestId/events`.
   */
  activeRequestId: T.Union([T.String(), T.Null()]),
})
export type ConversationSummary = Static<typeof ConversationSummary>

/**
 * One message. Messages form a tree through `parentId` (a regenerated answer is a sibling of the
 * one it replaces); `GET /api/conversations/:id` lists them oldest first.
 */
export const MessageView = T.Object({
  id: T.String(),
  parentId: T.Union([T.String(), T.Null()]),
  role: MessageRole,
  content: T.String(),
  status: MessageStatus,
  model: T.String(),
  /** `stop`, `length` (cut by the length limit: "continue" may go on), `content_filter`, `aborted`, `other`. */
  finishReason: T.Union([T.String(), T.Null()]),
  /** Why an answer ended in `error` (an error code the SPA translates). */
  errorCode: T.Union([T.String(), T.Null()]),
  createdAt: DateTime,
  updatedAt: DateTime,
})
export type MessageView = Static<typeof MessageView>

export const ConversationDetail = T.Object({
  ...ConversationSummary.properties,
  messages: T.Array(MessageView),
})
export type ConversationDetail = Static<typeof ConversationDetail>

/** Either `cursor` (from `nextCursor`) or `page` (1-based); `limit` defaults to 20. */
export const ConversationListQuery = T.Object({
  cursor: T.Optional(T.String({ maxLength: 200 })),
  page: T.Optional(T.Integer({ minimum: 1, maximum: 100_000 })),
  limit: T.Optional(T.Integer({ minimum: 1, maximum: 100, default: 20 })),
}, { additionalProperties: false })
export type ConversationListQuery = Static<typeof ConversationListQuery>

export const ConversationList = T.Object({
  items: T.Array(ConversationSummary),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: T.Union([T.String(), T.Null()]),
  total: T.Integer(),
})
export type ConversationList = Static<typeof ConversationList>

export const ConversationParams = T.Object({ id: Id })
export type ConversationParams = Static<typeof ConversationParams>

export const RenameConversationBody = T.Object({
  title: T.String({ minLength: 1, maxLength: 200 }),
}, { additionalProperties: false })
export type RenameConversationBody = Static<typeof RenameConversationBody>
