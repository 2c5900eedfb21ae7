import type { Static } from '@sinclair/typebox'
import { Type as T } from '@sinclair/typebox'
import { Page } from './common.js'

const Id = T.String({ minLength: 1, maxLength: 64 })
const DateTime = T.String({ format: 'date-time' })

/**
 * `POST /api/chat`. The answer is `text/event-stream` (see `ChatStreamEvent`); admission failures
 * (validation, unknown model, limits, QUEUE_FULL) answer as ordinary JSON errors instead.
 *
 * - `next` (default): a new question `content`, after `parentMessageId` (default: the conversation's
 *   latest message). No `conversationId` starts a new conversation.
 * - `regenerate`: answers again the question `parentMessageId` (a user message; default: the question
 *   of the latest answer). The new answer is a sibling of the old one; `content` is ignored.
 * - `continue`: goes on with the answer `parentMessageId` (an assistant message; default: the latest
 *   answer), which must have ended with finishReason `length`; the text is appended to that same
 *   message. `content` is ignored.
 *
 * Only one answer at a time is written per conversation (else 409 CONFLICT). Asks beyond a member's
 * max in-flight count wait in the queue behind their running one.
 */
export const ChatAction = T.Union([T.Literal('next'), T.Literal('continue'), T.Literal('regenerate')])
export type ChatAction = Static<typeof ChatAction>

export const ChatBody = T.Object({
  conversationId: T.Optional(Id),
  parentMessageId: T.Optional(Id),
  model: T.String({ minLength: 1, maxLength: 64 }),
  /** Bounded by `chat.max_content_chars` (CONTENT_TOO_LONG). */
  content: T.String({ maxLength: 1_000_000 }),
  action: T.Optional(ChatAction),
  /**
   * Without `conversationId`: start a new conversation that carries the earlier turns of this one
   * (its current branch) as context, e.g. when the shared account holding it is down
   * (ACCOUNT_UNAVAILABLE) or to go on with another model.
   */
  continueFrom: T.Optional(Id),
}, { additionalProperties: false })
export type ChatBody = Static<typeof ChatBody>

export const AcceptedEvent = T.Object({
  requestId: T.String(),
  conversationId: T.String(),
  /** The question (for `regenerate`/`continue`: the existing one). Stored before this event is sent. */
  userMessageId: T.String(),
  /** The answer being written (for `continue`: the existing one, appended to). */
  assistantMessageId: T.String(),
  /** A new conversation's provisional title (the question's first words), until `title` brings a better one. */
  title: T.Optional(T.String()),
})
export type AcceptedEvent = Static<typeof AcceptedEvent>

/** Why the ask waits beyond its turn: every account that could take it is cooling down, at its cap, pacing or down. */
export const WaitReason = T.Union([T.Literal('cooling'), T.Literal('capped'), T.Literal('paced'), T.Literal('down')])
export type WaitReason = Static<typeof WaitReason>

export const QueuedEvent = T.Object({
  position: T.Integer({ minimum: 1 }),
  /** Includes the accounts' cool-down, cap window and pacing when they hold the ask back. */
  etaSeconds: T.Integer({ minimum: 0 }),
  waitingFor: T.Optional(WaitReason),
})
export type QueuedEvent = Static<typeof QueuedEvent>

export const StartedEvent = T.Object({})
export type StartedEvent = Static<typeof StartedEvent>

export const DeltaEvent = T.Object({ text: T.String() })
export type DeltaEvent = Static<typeof DeltaEvent>

export const TitleEvent = T.Object({ title: T.String() })
export type TitleEvent = Static<typeof TitleEvent>

export const ChatUsage = T.Object({
  promptTokens: T.Optional(T.Integer()),
  completionTokens: T.Optional(T.Integer()),
  totalTokens: T.Optional(T.Integer()),
})
export type ChatUsage = Static<typeof ChatUsage>

/**
 * The answer ended normally or was stopped. A stop (the stop route, while queued or streaming) ends
 * the stream with `done {finishReason: "aborted"}`; the partial answer is kept with status `stopped`.
 */
export const DoneEvent = T.Object({
  finishReason: T.Union([T.Literal('stop'), T.Literal('length'), T.Literal('content_filter'), T.Literal('aborted'), T.Literal('other')]),
  usage: T.Optional(ChatUsage),
})
export type DoneEvent = Static<typeof DoneEvent>

/**
 * The answer failed: `code` is an error code (QUEUE_TIMEOUT, UPSTREAM_RATE_LIMITED, INTERRUPTED, ...)
 * the SPA translates. Two codes end only this stream, not the ask: SESSION_ENDED (the session was
 * logged out; the ask goes on, detached) and ACCOUNT_DISABLED (the ask is stopped too).
 */
export const ErrorEvent = T.Object({
  code: T.String(),
  message: T.String(),
  retryAfterSeconds: T.Optional(T.Number()),
})
export type ErrorEvent = Static<typeof ErrorEvent>

/**
 * Every SSE event of an ask's stream (`POST /api/chat`, `GET /api/chat/:requestId/events`), by its
 * `event:` name. `done` or `error` is always last.
 *
 * Every frame carries an `id:` (an opaque cursor: send it back as `Last-Event-ID` to resume right
 * after it). Frames of one stream may share an id (`queued` updates carry the current cursor).
 *
 * `GET /api/chat/:requestId/events` attaches to a running or finished ask of the member:
 * - with `Last-Event-ID` it sends what came after that frame, then goes on live;
 * - without it (or when the cursor is no longer known), it sends the state so far — `accepted`, then
 *   `started` if it started, one `delta` with the whole text so far (for `continue`: the text of the
 *   answer before it too), `title` if any, `queued` with the current position while it waits — then
 *   goes on live. A stream that begins with `accepted` is such a snapshot: the reader replaces what it
 *   had of that answer.
 * Another member's ask, or an unknown id, answers 404.
 */
export interface ChatStreamEvents {
  accepted: AcceptedEvent
  queued: QueuedEvent
  started: StartedEvent
  delta: DeltaEvent
  title: TitleEvent
  done: DoneEvent
  error: ErrorEvent
}
export type ChatStreamEvent = { [K in keyof ChatStreamEvents]: { event: K, data: ChatStreamEvents[K] } }[keyof ChatStreamEvents]

export const StopParams = T.Object({ requestId: Id })
export type StopParams = Static<typeof StopParams>

/** `GET /api/chat/:requestId/events`; the optional `Last-Event-ID` header resumes after that frame. */
export const AskEventsParams = T.Object({ requestId: Id })
export type AskEventsParams = Static<typeof AskEventsParams>

export const AskEventsHeaders = T.Object({ 'last-event-id': T.Optional(T.String({ maxLength: 64 })) })
export type AskEventsHeaders = Static<typeof AskEventsHeaders>

/** `stopped: false` when the ask had already ended. */
export const StopResponse = T.Object({ stopped: T.Boolean() })
export type StopResponse = Static<typeof StopResponse>

/** `GET /api/status`. */
export const UpstreamStatus = T.Object({
  id: T.String(),
  type: T.String(),
  concurrency: T.Integer(),
  queueLength: T.Integer(),
  inFlight: T.Integer(),
  /** Average recent service time, seconds. */
  avgServiceSeconds: T.Number(),
  healthy: T.Boolean(),
  reason: T.Optional(T.String()),
  coolDownUntil: T.Optional(DateTime),
})
export type UpstreamStatus = Static<typeof UpstreamStatus>

export const StatusResponse = T.Object({
  queueLength: T.Integer(),
  inFlight: T.Integer(),
  activeMembers: T.Object({ last5m: T.Integer(), last1h: T.Integer(), last1d: T.Integer() }),
  upstreams: T.Array(UpstreamStatus),
})
export type StatusResponse = Static<typeof StatusResponse>

/** The ask log (`GET /api/admin/asks`). */
export const AskOutcome = T.Union([
  T.Literal('queued'),
  T.Literal('running'),
  T.Literal('done'),
  T.Literal('stopped'),
  T.Literal('error'),
  T.Literal('interrupted'),
])
export type AskOutcome = Static<typeof AskOutcome>

export const AskLogQuery = T.Object({
  userId: T.Optional(T.Integer({ minimum: 1, maximum: 2_147_483_647 })),
  model: T.Optional(T.String({ maxLength: 64 })),
  outcome: T.Optional(AskOutcome),
  /** Asks made at or after this instant. */
  from: T.Optional(T.String({ format: 'date-time' })),
  /** Asks made before this instant. */
  to: T.Optional(T.String({ format: 'date-time' })),
  page: T.Optional(T.Integer({ minimum: 1, maximum: 100_000, default: 1 })),
  pageSize: T.Optional(T.Integer({ minimum: 1, maximum: 200, default: 50 })),
}, { additionalProperties: false })
export type AskLogQuery = Static<typeof AskLogQuery>

export const AskLogEntry = T.Object({
  id: T.String(),
  userId: T.Integer(),
  username: T.String(),
  conversationId: T.Union([T.String(), T.Null()]),
  model: T.String(),
  upstreamId: T.String(),
  outcome: T.String(),
  /** Quota ledger state: none | reserved | committed | refunded. */
  quota: T.String(),
  errorCode: T.Union([T.String(), T.Null()]),
  finishReason: T.Union([T.String(), T.Null()]),
  queueWaitMs: T.Union([T.Integer(), T.Null()]),
  ttftMs: T.Union([T.Integer(), T.Null()]),
  durationMs: T.Union([T.Integer(), T.Null()]),
  charsIn: T.Integer(),
  charsOut: T.Integer(),
  tokensIn: T.Union([T.Integer(), T.Null()]),
  tokensOut: T.Union([T.Integer(), T.Null()]),
  createdAt: DateTime,
  startedAt: T.Union([DateTime, T.Null()]),
  endedAt: T.Union([DateTime, T.Null()]),
})
export type AskLogEntry = Static<typeof AskLogEntry>

export const AskLogPage = Page(AskLogEntry)
export type AskLogPage = Static<typeof AskLogPage>
