import type { AcceptedEvent, ChatBody, MessageStatus, QueuedEvent } from '@cws/backend/contracts'
import type { ApiError } from '../api/http'

/** The shapes of `useAskStream` (the state machine of one ask; see there). */

/** The message the answer is written into (a `ChatMessage` is one). */
export interface AnswerTarget {
  content: string
  status: MessageStatus
  finishReason: string | null
  errorCode: string | null
}

export type AskState = 'sending' | 'attaching' | 'queued' | 'started' | 'streaming' | 'ended'

export type AskEnd
  = | { kind: 'done', finishReason: string }
    | { kind: 'error', code: string }
    /** Refused before `accepted` (limits, QUEUE_FULL, network): nothing was stored. */
    | { kind: 'refused', error: ApiError }
    /** Stopped before the server accepted it. */
    | { kind: 'cancelled' }
    /** The ask can no longer be followed (404, 401, 403). */
    | { kind: 'lost', error: ApiError }
    /** `close()`: this page stopped listening; the ask goes on. */
    | { kind: 'detached' }

export interface AskStreamHooks<A extends AnswerTarget> {
  /** The server named the ask (first event of every snapshot too); returns the message to write into. */
  accepted?: (e: AcceptedEvent) => A | null | void
  title?: (title: string) => void
}

export interface AskStream<A extends AnswerTarget = AnswerTarget> {
  readonly state: AskState
  readonly queue: QueuedEvent | null
  readonly reconnecting: boolean
  readonly requestId: string | null
  readonly lastEventId: string | null
  readonly answer: A | null
  /**
   * Settles once the first connection brought its first events (their text written: for `attach`,
   * the snapshot), or the ask ended: a page can wait for it before showing the answer.
   */
  readonly opened: Promise<void>
  /** Posts a new ask and follows it; resolves when it ended (or could not start). */
  send: (body: ChatBody) => Promise<AskEnd>
  /** Follows the ask `requestId` from a snapshot; resolves when it ended. */
  attach: (requestId: string) => Promise<AskEnd>
  /** Stops the ask on the server (from any tab) and ends with what the server kept. */
  stop: () => Promise<void>
  /** Stops listening; the ask goes on on the server. */
  close: () => void
}
