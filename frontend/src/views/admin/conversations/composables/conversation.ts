import type { AdminConversationDetail, AdminConversationListQuery, ConversationOwner } from '@cws/backend/contracts'
import type { ChatMessage } from '../../../../stores/chat'
import type { ExportConversation } from '../../../../utils/export/types'
import { buildThread, toChatMessage } from '../../../../stores/chat'

/** How an owner is named in the lists: the nickname when there is one, else the username. */
export function ownerName(owner: Pick<ConversationOwner, 'username' | 'nickname'>): string {
  return owner.nickname.trim() || owner.username
}

/** A member in a select: `mia (Mia Chen)`, or just `mia`. */
export function memberLabel(user: Pick<ConversationOwner, 'username' | 'nickname'>): string {
  return user.nickname ? `${user.username} (${user.nickname})` : user.username
}

export interface ListFilters {
  userId: number | null
  q: string
  page: number
  pageSize: number
}

/** The list request for the filters on screen: a blank search and no member are left out. */
export function listQuery(f: ListFilters): Partial<AdminConversationListQuery> {
  const q = f.q.trim()
  return {
    page: f.page,
    limit: f.pageSize,
    ...(f.userId !== null ? { userId: f.userId } : {}),
    ...(q ? { q } : {}),
  }
}

/**
 * What the read-only view shows: the branch the member sees in their own chat (the one ending at the
 * newest message), root first. Earlier answers that were regenerated are left out, as in the chat.
 */
export function latestThread(detail: Pick<AdminConversationDetail, 'messages'>): ChatMessage[] {
  return buildThread(detail.messages.map(toChatMessage), null)
}

/** The conversation as the Markdown export takes it: the latest branch, models by display name. */
export function toExport(detail: AdminConversationDetail, modelName: (key: string) => string, untitled: string): ExportConversation {
  return {
    title: detail.title.trim() || untitled,
    createdAt: detail.createdAt,
    model: modelName(detail.model),
    turns: latestThread(detail).map(m => ({ role: m.role, content: m.content, model: modelName(m.model), status: m.status })),
  }
}
