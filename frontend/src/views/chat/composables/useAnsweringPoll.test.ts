import type { ConversationSummary } from '@cws/backend/contracts'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick } from 'vue'
import { useConversationsStore } from '../../../stores/conversations'
import { ANSWERING_POLL_MS, useAnsweringPoll } from './useAnsweringPoll'

const server = vi.hoisted(() => ({ polls: 0, active: 'r2' as string | null }))

vi.mock('../../../api/conversations', () => ({
  listConversations: async () => {
    server.polls++
    return { items: [conv('c2', server.active), conv('c1', null)], nextCursor: null, total: 2 }
  },
}))

function conv(id: string, activeRequestId: string | null): ConversationSummary {
  return { id, title: id, model: 'demo', createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z', activeRequestId }
}

function setVisibility(state: 'visible' | 'hidden'): void {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state })
  document.dispatchEvent(new Event('visibilitychange'))
}

beforeEach(() => {
  vi.useFakeTimers()
  setActivePinia(createPinia())
  localStorage.clear()
  server.polls = 0
  server.active = 'r2'
  setVisibility('visible')
})
afterEach(() => {
  vi.useRealTimers()
})

describe('useAnsweringPoll', () => {
  it('polls while another conversation is answering, marks it unread when it ends, then stops', async () => {
    const list = useConversationsStore()
    list.items = [conv('c2', 'r2'), conv('c1', null)]
    list.setOpen('c1')
    const scope = effectScope()
    scope.run(() => useAnsweringPoll())
    await vi.advanceTimersByTimeAsync(ANSWERING_POLL_MS * 2)
    expect(server.polls).toBe(2)
    server.active = null
    await vi.advanceTimersByTimeAsync(ANSWERING_POLL_MS)
    expect([server.polls, list.unread.has('c2')]).toEqual([3, true])
    await vi.advanceTimersByTimeAsync(ANSWERING_POLL_MS * 5)
    expect(server.polls).toBe(3)
    scope.stop()
  })

  it('does not poll for the conversation open on screen (its stream tells), nor while the page is hidden', async () => {
    const list = useConversationsStore()
    list.items = [conv('c2', 'r2')]
    list.setOpen('c2')
    const scope = effectScope()
    scope.run(() => useAnsweringPoll())
    await vi.advanceTimersByTimeAsync(ANSWERING_POLL_MS * 3)
    expect(server.polls).toBe(0)
    list.setOpen(null)
    setVisibility('hidden')
    await nextTick()
    await vi.advanceTimersByTimeAsync(ANSWERING_POLL_MS * 3)
    expect(server.polls).toBe(0)
    setVisibility('visible')
    await nextTick()
    await vi.advanceTimersByTimeAsync(ANSWERING_POLL_MS)
    expect(server.polls).toBe(1)
    scope.stop()
    await vi.advanceTimersByTimeAsync(ANSWERING_POLL_MS * 3)
    expect(server.polls).toBe(1)
  })
})
