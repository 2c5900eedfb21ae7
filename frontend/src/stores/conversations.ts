import type { ConversationList, ConversationSummary } from '@cws/backend/contracts'
import { useLocalStorage } from '@vueuse/core'
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import * as api from '../api/conversations'
import { isApiError } from '../api/http'

export type ConversationGroup = 'today' | 'yesterday' | 'previous7' | 'previous30' | 'older'

const PAGE_SIZE = 30
/** Conversations whose answer ended while another one was on screen (ids; newest first, bounded). */
const UNREAD_KEY = 'cws.chat.unread'
const UNREAD_MAX = 200

function startOfDay(d: Date): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime()
}

/** Which sidebar group a conversation falls in, by its last activity in local time. */
export function groupOf(iso: string, now = new Date()): ConversationGroup {
  const t = new Date(iso).getTime()
  const today = startOfDay(now)
  const day = 86_400_000
  if (t >= today)
    return 'today'
  if (t >= today - day)
    return 'yesterday'
  if (t >= today - 7 * day)
    return 'previous7'
  if (t >= today - 30 * day)
    return 'previous30'
  return 'older'
}

const GROUP_ORDER: ConversationGroup[] = ['today', 'yesterday', 'previous7', 'previous30', 'older']

/** Newest first, as the server orders them: by last activity, then by id. */
function newer(a: ConversationSummary, b: ConversationSummary): boolean {
  return a.updatedAt === b.updatedAt ? a.id > b.id : a.updatedAt > b.updatedAt
}

/**
 * The first page just fetched, then what was loaded beyond it. A conversation missing from a
 * complete first page, or newer than its last item, is gone (deleted elsewhere).
 */
function mergeFirstPage(page: ConversationList, loaded: ConversationSummary[]): ConversationSummary[] {
  const last = page.items[page.items.length - 1]
  if (!page.nextCursor || !last)
    return page.items
  const ids = new Set(page.items.map(c => c.id))
  return [...page.items, ...loaded.filter(c => !ids.has(c.id) && newer(last, c))]
}

/**
 * The member's conversations for the sidebar: newest first, paged with the server's cursor. Each
 * carries `activeRequestId` while an answer is being written in it (kept fresh by the chat store for
 * the asks this page follows, and by `poll` for the others); an answer that ends while its
 * conversation is not the one open marks it unread until it is opened (kept in localStorage).
 */
export const useConversationsStore = defineStore('conversations', () => {
  const items = ref<ConversationSummary[]>([])
  const unreadIds = useLocalStorage<string[]>(UNREAD_KEY, [])
  const unread = computed(() => new Set(unreadIds.value))
  /** The conversation on screen (null: a new chat, or none). */
  const openId = ref<string | null>(null)
  const nextCursor = ref<string | null>(null)
  const total = ref(0)
  const loaded = ref(false)
  const loading = ref(false)
  const error = ref<string | null>(null)
  let generation = 0

  const hasMore = computed(() => nextCursor.value !== null)

  const groups = computed(() => {
    const now = new Date()
    const map = new Map<ConversationGroup, ConversationSummary[]>()
    for (const c of items.value) {
      const g = groupOf(c.updatedAt || c.createdAt, now)
      const list = map.get(g)
      if (list)
        list.push(c)
      else
        map.set(g, [c])
    }
    return GROUP_ORDER.filter(g => map.has(g)).map(g => ({ key: g, items: map.get(g)! }))
  })

  async function refresh(): Promise<void> {
    const gen = ++generation
    loading.value = true
    error.value = null
    try {
      const page = await api.listConversations({ limit: PAGE_SIZE })
      if (gen !== generation)
        return
      items.value = page.items
      nextCursor.value = page.nextCursor
      total.value = page.total
      loaded.value = true
    }
    catch (err) {
      if (gen === generation)
        error.value = isApiError(err) ? err.code : 'UNKNOWN'
    }
    finally {
      if (gen === generation)
        loading.value = false
    }
  }

  /**
   * The first page again, merged into what is loaded (a refresh would drop the pages loaded beyond
   * it): answers that ended since the last look mark their conversations unread.
   */
  async function poll(): Promise<void> {
    if (loading.value)
      return
    const gen = generation
    try {
      const page = await api.listConversations({ limit: PAGE_SIZE })
      if (gen !== generation || loading.value)
        return
      const before = new Map(items.value.map(c => [c.id, c]))
      for (const c of page.items) {
        if (before.get(c.id)?.activeRequestId && !c.activeRequestId)
          markUnread(c.id)
      }
      const merged = mergeFirstPage(page, items.value)
      if (merged.length <= page.items.length)
        nextCursor.value = page.nextCursor
      items.value = merged
      total.value = page.total
    }
    catch {
      // The next poll tries again.
    }
  }

  async function loadMore(): Promise<void> {
    if (loading.value || !nextCursor.value)
      return
    const gen = generation
    loading.value = true
    try {
      const page = await api.listConversations({ cursor: nextCursor.value, limit: PAGE_SIZE })
      if (gen !== generation)
        return
      const known = new Set(items.value.map(c => c.id))
      items.value = [...items.value, ...page.items.filter(c => !known.has(c.id))]
      nextCursor.value = page.nextCursor
      total.value = page.total
    }
    catch (err) {
      error.value = isApiError(err) ? err.code : 'UNKNOWN'
    }
    finally {
      if (gen === generation)
        loading.value = false
    }
  }

  /** Adds (or moves to the top) a conversation the member just started. */
  function upsert(c: ConversationSummary): void {
    const rest = items.value.filter(x => x.id !== c.id)
    if (rest.length === items.value.length)
      total.value += 1
    items.value = [c, ...rest]
  }

  /** Marks activity: moves the conversation to the top (lists are ordered by last activity). */
  function touch(id: string): void {
    const found = items.value.find(x => x.id === id)
    if (found)
      upsert({ ...found, updatedAt: new Date().toISOString() })
  }

  function patch(id: string, change: Partial<ConversationSummary>): void {
    if (items.value.some(c => c.id === id))
      items.value = items.value.map(c => (c.id === id ? { ...c, ...change } : c))
  }

  function setTitle(id: string, title: string): void {
    patch(id, { title })
  }

  /** An answer is being written in `id` (`requestId`), or none (null). */
  function setActive(id: string, requestId: string | null): void {
    patch(id, { activeRequestId: requestId })
  }

  /** The answer being written in `id` ended: unread, unless it is the conversation on screen. */
  function finished(id: string): void {
    setActive(id, null)
    markUnread(id)
  }

  function markUnread(id: string): void {
    if (id !== openId.value && !unread.value.has(id))
      unreadIds.value = [id, ...unreadIds.value].slice(0, UNREAD_MAX)
  }

  function markRead(id: string): void {
    if (unread.value.has(id))
      unreadIds.value = unreadIds.value.filter(x => x !== id)
  }

  /** The conversation now on screen (its unread mark goes). */
  function setOpen(id: string | null): void {
    openId.value = id
    if (id)
      markRead(id)
  }

  async function rename(id: string, title: string): Promise<void> {
    const trimmed = title.trim()
    if (!trimmed)
      return
    const before = items.value
    setTitle(id, trimmed)
    try {
      await api.renameConversation(id, trimmed)
    }
    catch (err) {
      items.value = before
      throw err
    }
  }

  async function remove(id: string): Promise<void> {
    await api.deleteConversation(id)
    const before = items.value.length
    items.value = items.value.filter(c => c.id !== id)
    if (items.value.length < before)
      total.value = Math.max(0, total.value - 1)
    markRead(id)
  }

  function reset(): void {
    generation++
    items.value = []
    nextCursor.value = null
    total.value = 0
    loaded.value = false
    loading.value = false
    error.value = null
  }

  return { items, groups, total, loaded, loading, error, hasMore, unread, openId, refresh, poll, loadMore, upsert, touch, setTitle, setActive, finished, setOpen, rename, remove, reset }
})
