/**
 * The one interface every upstream sits behind. A provider turns an ask into a typed event stream;
 * the chat engine never sees wire formats. Errors are thrown as `ProviderError` with a stable code.
 */
import type { Dispatcher } from 'undici'
import type { UpstreamConfig } from '../../config/schema.js'
import type { UpstreamState } from './shared/state.js'

/** What providers may log through (pino-compatible). Never given secrets. */
export interface ProviderLogger {
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
}

export interface ProviderDeps {
  logger?: ProviderLogger
  /** Time source for health timestamps. */
  now?: () => Date
  /** The account's health, shared with its pool (modules/upstreams); a new one when absent. */
  state?: UpstreamState
  /** The account's current credential, when it can change while running (token refresh). */
  credential?: () => string | undefined
  /** How to reach the upstream (an outbound proxy); a direct connection when absent. */
  dispatcher?: Dispatcher
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
  /** What kind of failure: the credential was refused, or the upstream could not be reached. */
  kind?: 'unauthorized' | 'unreachable'
  /** Unhealthy since. */
  since?: Date
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
  /** A cheap real call (the account check, the model list) telling whether the credential works; the plan when known. */
  check?: (signal: AbortSignal) => Promise<{ plan?: string }>
  /** Optional upstream-side conversation management (ChatGPT web). */
  genTitle?: (upstreamConversationId: string, upstreamMessageId: string, signal?: AbortSignal) => Promise<string>
  rename?: (upstreamConversationId: string, title: string) => Promise<void>
  hide?: (upstreamConversationId: string) => Promise<void>
  listConversations?: (offset: number, limit: number) => Promise<{ items: UpstreamConversationSummary[], total: number }>
  getConversation?: (upstreamConversationId: string) => Promise<unknown>
  /**
   * ChatGPT web: one message of an upstream conversation as the upstream holds it now, when it is an
   * answer the upstream finished (null: unknown, unfinished or not an answer). Read after a crash
   * cut our stream of it (modules/asks/recovery.ts).
   */
  finishedMessage?: (upstreamConversationId: string, upstreamMessageId: string, signal?: AbortSignal) => Promise<{ text: string, finishReason: FinishReason } | null>
  /**
   * Releases connections: gracefully (running answers finish) when an upstream is replaced by a
   * settings reload, at once with `force` when the app closes.
   */
  close?: (opts?: { force?: boolean }) => Promise<void>
}
