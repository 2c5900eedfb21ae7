import type { ChatBody, StopResponse } from '@cws/backend/contracts'
import type { ChatStreamFrame, EventStreamOptions } from './sse'
import { http } from './http'
import { getEventStream, postEventStream } from './sse'

export type AskStreamOptions = EventStreamOptions

/**
 * `POST /api/chat`: admits the ask and streams it live from `accepted` on (never a snapshot).
 * Admission failures (limits, QUEUE_FULL, CONTENT_TOO_LONG...) reject with ApiError before any
 * event; a stream cut short rejects with STREAM_INTERRUPTED (the ask goes on: attach to it again).
 */
export function ask(body: ChatBody, opts: AskStreamOptions): Promise<ChatStreamFrame> {
  return postEventStream('/chat', body, opts)
}

/**
 * `GET /api/chat/:requestId/events`: follows a running or finished ask. With `lastEventId`, what
 * came after that frame; without it (or when the server no longer knows the cursor), a snapshot that
 * begins with `accepted`. 404 for an unknown ask or another member's.
 */
export function attach(requestId: string, opts: AskStreamOptions & { lastEventId?: string | null }): Promise<ChatStreamFrame> {
  return getEventStream(`/chat/${encodeURIComponent(requestId)}/events`, opts)
}

/** `POST /api/chat/:requestId/stop`: stops a queued or running ask on the server (and upstream), from any tab. */
export function stopAsk(requestId: string): Promise<StopResponse> {
  return http.post<StopResponse>(`/chat/${encodeURIComponent(requestId)}/stop`)
}
