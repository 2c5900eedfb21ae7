/**
 * The one interface every upstream sits behind. A provider turns an ask into a typed event stream;
 * the chat engine never sees wire formats. Errors are thrown as `ProviderError` with a stable code.
 */
import type { UpstreamConfig } from '../../config/schema.js'

/** What providers may log through (pino-compatible). Never given secrets. */
export interface ProviderLogger {
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
}

export interface ProviderDeps {
  logger?: ProviderLogger
  /** Time source for cool-downs and health timestamps. */
  now?: () => Date
}

export interface ChatTurn {
  role: 'user' | 'assistant' | 'system'
  content: string
}

export interface AskInput {
  /** Upstream model slug (already mapped from our model key). */
  slug: string
  /** The new question. Ignored when `action` is "continue". */
  content: string
  /** "continue" asks the upstream to go on with a reply cut by length. */
  action?: 'next' | 'continue'
  /** API providers: earlier turns, oldest first, already bounded by the history budget. */
  history?: ChatTurn[]
  /** ChatGPT web: follow-up context. */
  upstreamConversationId?: string | null
  upstreamParentMessageId?: string | null
  /** ChatGPT web: the id to give the user message (client-generated). */
  userMessageId?: string
  signal: AbortSignal
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'aborted' | 'other'

export interface Usage {
  promptTokens?: number
  completionTokens?: number
  totalTokens?: number
}

export type ProviderEvent
  = | { type: 'text', text: string }
    | { type: 'title', title: string }
  /** ChatGPT web: ids to chain the next ask onto. */
    | { type: 'context', upstreamConversationId: string, upstreamMessageId: string }
    | { type: 'done', finishReason: FinishReason, usage?: Usage }

export type ProviderErrorCode
  = | 'UPSTREAM_TIMEOUT'
    | 'UPSTREAM_UNAUTHORIZED'
    | 'UPSTREAM_RATE_LIMITED'
    | 'UPSTREAM_ERROR'
    | 'UPSTREAM_UNAVAILABLE'

export class ProviderError extends Error {
  constructor(
    readonly code: ProviderErrorCode,
    /** Safe for members and logs: never an upstream body verbatim. */
    message: string,
    readonly extra: { status?: number, retryAfterSeconds?: number } = {},
  ) {
    super(message)
    this.name = 'ProviderError'
  }
}

export interface UpstreamHealth {
  healthy: boolean
  /** Why it is unhealthy (safe to show the admin). */
  reason?: string
  /** Until when calls are held back after a 429. */
  coolDownUntil?: Date
  checkedAt?: Date
}

export interface UpstreamConversationSummary {
  id: string
  title: string
  createTime?: string
  updateTime?: string
}

export interface Provider {
  readonly id: string
  readonly type: UpstreamConfig['type']
  /** Streams one answer. Throws ProviderError; yields `done` exactly once on success. */
  ask: (input: AskInput) => AsyncIterable<ProviderEvent>
  health: () => UpstreamHealth
  /** Optional upstream-side conversation management (ChatGPT web). */
  genTitle?: (upstreamConversationId: string, upstreamMessageId: string, signal?: AbortSignal) => Promise<string>
  rename?: (upstreamConversationId: string, title: string) => Promise<void>
  hide?: (upstreamConversationId: string) => Promise<void>
  listConversations?: (offset: number, limit: number) => Promise<{ items: UpstreamConversationSummary[], total: number }>
  getConversation?: (upstreamConversationId: string) => Promise<unknown>
  /**
   * Releases connections: gracefully (running answers finish) when an upstream is replaced by a
   * settings reload, at once with `force` when the app closes.
   */
  close?: (opts?: { force?: boolean }) => Promise<void>
}
