import type {
  AccountList,
  AccountTest,
  AdminConversationDetail,
  AdminConversationList,
  AdminConversationListQuery,
  AdminConversationPatch,
  AdminConversationSummary,
  AdminMeta,
  AdminUser,
  AdminUserList,
  AlertList,
  ApplyLimitsResponse,
  AskLogPage,
  AskLogQuery,
  CreateUserBody,
  Limits,
  LimitsPatch,
  ListUsersQuery,
  LogLine,
  LogStreamEventMap,
  LogStreamQuery,
  MemberSummaryList,
  RecentLogs,
  RecentLogsQuery,
  RevokedResponse,
  StatsQuery,
  StatsResponse,
  UpdateUserBody,
} from '@cws/backend/contracts'
import { createParser } from 'eventsource-parser'
import { ApiError, http, networkError, rawRequest } from './http'

// ── Accounts of the upstreams (`/api/admin/upstreams`) ──

/** Every account of every upstream: its state, token expiry, load and caps (never a credential). */
export function listAccounts(signal?: AbortSignal): Promise<AccountList> {
  return http.get<AccountList>('/admin/upstreams/accounts', { signal })
}

/** A cheap real call with the account's credential: reachable or not, latency, plan; the account's state after it. */
export function testAccount(upstreamId: string, accountId: string): Promise<AccountTest> {
  return http.post<AccountTest>(`/admin/upstreams/${encodeURIComponent(upstreamId)}/accounts/${encodeURIComponent(accountId)}/test`, {})
}

/** Changes of the accounts' states, newest first. */
export function listAlerts(signal?: AbortSignal): Promise<AlertList> {
  return http.get<AlertList>('/admin/upstreams/alerts', { signal })
}

// ── Members (`/api/admin/users`) ──

/** Members, searched by username or nickname, paginated, sorted (default: last active first). */
export function listUsers(query: Partial<ListUsersQuery>, signal?: AbortSignal): Promise<AdminUserList> {
  return http.get<AdminUserList>('/admin/users', { query: { ...query }, signal })
}

export function createUser(body: CreateUserBody): Promise<AdminUser> {
  return http.post<AdminUser>('/admin/users', body)
}

/** Nickname, role, enabled, remark, password reset (ends the member's sessions). */
export function updateUser(id: number, body: UpdateUserBody): Promise<AdminUser> {
  return http.patch<AdminUser>(`/admin/users/${id}`, body)
}

/** Deletes the member with their conversations, messages, ask log and limits. */
export function deleteUser(id: number): Promise<void> {
  return http.delete<void>(`/admin/users/${id}`)
}

/** Ends every session of the member. */
export function logoutEverywhere(id: number): Promise<RevokedResponse> {
  return http.post<RevokedResponse>(`/admin/users/${id}/logout-everywhere`)
}

// ── Limits ──

export function getLimits(userId: number): Promise<Limits> {
  return http.get<Limits>(`/admin/users/${userId}/limits`)
}

/** Partial update: only the fields given change; `modelAsks` merges per model (`null` removes one). */
export function patchLimits(userId: number, patch: LimitsPatch): Promise<Limits> {
  return http.patch<Limits>(`/admin/users/${userId}/limits`, patch)
}

/** One partial template applied to several members (nothing changes if an id is unknown). */
export function applyLimits(userIds: number[], limits: LimitsPatch): Promise<ApplyLimitsResponse> {
  return http.post<ApplyLimitsResponse>('/admin/limits/apply', { userIds, limits })
}

export function getDefaultLimits(): Promise<Limits> {
  return http.get<Limits>('/admin/limits/defaults')
}

/** Replaces the defaults for new members. */
export function putDefaultLimits(limits: LimitsPatch): Promise<Limits> {
  return http.put<Limits>('/admin/limits/defaults', limits)
}

// ── Conversations (`/api/admin/conversations`) ──

/** Every member's conversations, newest activity first; `userId` filters to one member, `q` searches titles. */
export function listConversations(query: Partial<AdminConversationListQuery>, signal?: AbortSignal): Promise<AdminConversationList> {
  return http.get<AdminConversationList>('/admin/conversations', { query: { ...query }, signal })
}

/** The conversation with its owner and every message (all branches), oldest first. */
export function getConversation(id: string, signal?: AbortSignal): Promise<AdminConversationDetail> {
  return http.get<AdminConversationDetail>(`/admin/conversations/${encodeURIComponent(id)}`, { signal })
}

/** Rename, and/or give it to another member (`ownerId`; an unknown one → NOT_FOUND). */
export function updateConversation(id: string, patch: AdminConversationPatch): Promise<AdminConversationSummary> {
  return http.patch<AdminConversationSummary>(`/admin/conversations/${encodeURIComponent(id)}`, patch)
}

/** Stops an answer being written, then deletes the conversation with its messages. */
export function deleteConversation(id: string): Promise<void> {
  return http.delete<void>(`/admin/conversations/${encodeURIComponent(id)}`)
}

// ── Ask log, statistics ──

export function listAsks(query: AskLogQuery, signal?: AbortSignal): Promise<AskLogPage> {
  return http.get<AskLogPage>('/admin/asks', { query: { ...query }, signal })
}

export function getStats(query: StatsQuery, signal?: AbortSignal): Promise<StatsResponse> {
  return http.get<StatsResponse>('/admin/stats', { query: { ...query }, signal })
}

/** The configured models and the time zone limits and stats are read in. */
export function getAdminMeta(): Promise<AdminMeta> {
  return http.get<AdminMeta>('/admin/stats/meta')
}

/** Per member (at most 100 ids): remaining asks, expiry, recent use. */
export function getMemberSummaries(ids: number[], signal?: AbortSignal): Promise<MemberSummaryList> {
  if (!ids.length)
    return Promise.resolve({ items: [] })
  return http.get<MemberSummaryList>('/admin/stats/members', { query: { ids: ids.join(',') }, signal })
}

// ── Server log ──

/** The newest server log lines (oldest first), optionally only those at `level` or above. */
export function recentLogs(query: RecentLogsQuery, signal?: AbortSignal): Promise<RecentLogs> {
  return http.get<RecentLogs>('/admin/logs/recent', { query: { ...query }, signal })
}

export interface LogStreamHandlers {
  onLine: (line: LogLine) => void
  /** The server skipped lines because this reader fell behind. */
  onDropped?: (data: LogStreamEventMap['dropped']) => void
  /** The stream is open (headers received). */
  onOpen?: () => void
}

/**
 * Follows `GET /api/admin/logs/stream` until `signal` aborts (rejects with the AbortError) or the
 * server ends it (throws ApiError STREAM_INTERRUPTED, so the caller can reconnect).
 */
export async function streamLogs(query: LogStreamQuery, handlers: LogStreamHandlers, signal: AbortSignal): Promise<never> {
  const res = await rawRequest('GET', '/admin/logs/stream', { query: { ...query }, signal, headers: { Accept: 'text/event-stream' } })
  if (!res.body)
    throw new ApiError({ code: 'STREAM_INTERRUPTED', status: res.status, message: 'The response has no body' })
  handlers.onOpen?.()
  const parser = createParser({
    onEvent(msg) {
      try {
        if (msg.event === 'log')
          handlers.onLine(JSON.parse(msg.data) as LogLine)
        else if (msg.event === 'dropped')
          handlers.onDropped?.(JSON.parse(msg.data) as LogStreamEventMap['dropped'])
      }
      catch {
        // A malformed frame is skipped; the next one is independent.
      }
    },
  })
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  try {
    while (true) {
      const { value, done } = await reader.read()
      if (done)
        break
      parser.feed(decoder.decode(value, { stream: true }))
    }
  }
  catch (err) {
    if (signal.aborted || (err instanceof DOMException && err.name === 'AbortError'))
      throw err
    throw networkError(err)
  }
  finally {
    reader.releaseLock()
  }
  throw new ApiError({ code: 'STREAM_INTERRUPTED', status: res.status, message: 'The log stream ended' })
}
