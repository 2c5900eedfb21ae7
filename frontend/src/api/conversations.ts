import type { ConversationDetail, ConversationList, ConversationSummary } from '@cws/backend/contracts'
import { http } from './http'

/** `GET /api/conversations`: own conversations, newest first; pass `nextCursor` back for the next page. */
export function listConversations(opts: { cursor?: string | null, limit?: number } = {}): Promise<ConversationList> {
  return http.get<ConversationList>('/conversations', { query: { cursor: opts.cursor ?? undefined, limit: opts.limit } })
}

/** `GET /api/conversations/:id`: the conversation with its messages, oldest first. */
export function getConversation(id: string, signal?: AbortSignal): Promise<ConversationDetail> {
  return http.get<ConversationDetail>(`/conversations/${encodeURIComponent(id)}`, { signal })
}

/** `PATCH /api/conversations/:id`: rename. */
export function renameConversation(id: string, title: string): Promise<ConversationSummary> {
  return http.patch<ConversationSummary>(`/conversations/${encodeURIComponent(id)}`, { title })
}

/** `DELETE /api/conversations/:id`. */
export function deleteConversation(id: string): Promise<void> {
  return http.delete<void>(`/conversations/${encodeURIComponent(id)}`)
}
