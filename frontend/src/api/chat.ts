import type { ChatBody, StopResponse } from '@cws/backend/contracts'
import type { ChatStreamEvent } from './sse'
import { http } from './http'
import { postEventStream } from './sse'

export interface AskOptions {
  signal?: AbortSignal
  onEvent: (event: ChatStreamEvent) => void
}

/**
 * `POST /api/chat`: streams the answer. Admission failures (limits, QUEUE_FULL, CONTENT_TOO_LONG...)
 * reject with ApiError before any event; a stream cut short rejects with STREAM_INTERRUPTED.
 */
export function ask(body: ChatBody, opts: AskOptions): Promise<ChatStreamEvent> {
  return postEventStream('/chat', body, opts)
}

/** `POST /api/chat/:requestId/stop`: stops a queued or running ask on the server (and upstream). */
export function stopAsk(requestId: string): Promise<StopResponse> {
  return http.post<StopResponse>(`/chat/${encodeURIComponent(requestId)}/stop`)
}
