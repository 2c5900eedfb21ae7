import type { ConversationSummary } from '@cws/backend/contracts'
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import * as api from '../api/conversations'
import { isApiError } from '../api/http'

export type ConversationGroup = 'today' | 'yesterday' | 'previous7' | 'previous30' | 'older'

const PAGE_SIZE = 30

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

/** The member's conversations for the sidebar: newest first, paged with the server's cursor. */
export const useConversationsStore = defineStore('conversations', () => {
  const items = ref<ConversationSummary[]>([])
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

  function setTitle(id: string, title: string): void {
    items.value = items.value.map(c => (c.id === id ? { ...c, title } : c))
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

  return { items, groups, total, loaded, loading, error, hasMore, refresh, loadMore, upsert, touch, setTitle, rename, remove, reset }
})
