import type { ConversationList, ConversationSummary } from '@cws/backend/contracts'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { useConversationsStore } from './conversations'

const server = vi.hoisted(() => ({ pages: [] as ConversationList[], calls: [] as unknown[] }))

vi.mock('../api/conversations', () => ({
  listConversations: async (opts: unknown) => {
    server.calls.push(opts)
    const page = server.pages.shift()
    if (!page)
      throw new Error('no page')
    return page
  },
  renameConversation: async () => ({}),
  deleteConversation: async () => undefined,
}))

function conv(id: string, minute: number, activeRequestId: string | null = null): ConversationSummary {
  const at = new Date(Date.UTC(2024, 0, 1, 12, minute)).toISOString()
  return { id, title: id, model: 'demo', createdAt: at, updatedAt: at, activeRequestId }
}
const page = (items: ConversationSummary[], nextCursor: string | null = null): ConversationList => ({ items, nextCursor, total: items.length + (nextCursor ? 10 : 0) })

beforeEach(() => {
  setActivePinia(createPinia())
  localStorage.clear()
  server.pages = []
  server.calls = []
})

describe('conversations: answers being written', () => {
  it('a poll that sees an answer ended marks its conversation unread, except the one open', async () => {
    const list = useConversationsStore()
    server.pages.push(page([conv('c3', 30, 'r3'), conv('c2', 20, 'r2'), conv('c1', 10)]))
    await list.refresh()
    list.setOpen('c2')
    server.pages.push(page([conv('c3', 31), conv('c2', 21), conv('c1', 10)]))
    await list.poll()
    expect(list.items.map(c => [c.id, c.activeRequestId])).toEqual([['c3', null], ['c2', null], ['c1', null]])
    expect([...list.unread]).toEqual(['c3'])
    expect(JSON.parse(localStorage.getItem('cws.chat.unread')!)).toEqual(['c3'])
  })

  it('unread marks survive a reload (localStorage) and go when the conversation is opened or deleted', async () => {
    localStorage.setItem('cws.chat.unread', JSON.stringify(['c3', 'c4']))
    const list = useConversationsStore()
    expect([...list.unread]).toEqual(['c3', 'c4'])
    list.setOpen('c3')
    expect([...list.unread]).toEqual(['c4'])
    await list.remove('c4')
    expect([...list.unread]).toEqual([])
  })

  it('finished() clears the answering mark; unread only when another conversation is open', () => {
    const list = useConversationsStore()
    list.upsert(conv('c1', 1, 'r1'))
    list.upsert(conv('c2', 2, 'r2'))
    list.setOpen('c1')
    list.finished('c1')
    list.finished('c2')
    expect(list.items.map(c => c.activeRequestId)).toEqual([null, null])
    expect([...list.unread]).toEqual(['c2'])
  })

  it('a poll keeps the pages loaded beyond the first, and drops what disappeared from the first', async () => {
    const list = useConversationsStore()
    server.pages.push(page([conv('c9', 59, 'r9'), conv('c8', 58), conv('c7', 57)], 'cursor-1'))
    await list.refresh()
    server.pages.push(page([conv('c6', 56), conv('c5', 55)]))
    await list.loadMore()
    expect(list.items.map(c => c.id)).toEqual(['c9', 'c8', 'c7', 'c6', 'c5'])
    // c8 was deleted elsewhere; c6 got a new question and moved up.
    server.pages.push(page([conv('c6', 60, 'r6'), conv('c9', 59), conv('c7', 57)], 'cursor-2'))
    await list.poll()
    expect(list.items.map(c => c.id)).toEqual(['c6', 'c9', 'c7', 'c5'])
    expect(list.hasMore).toBe(false)
    expect(server.calls.at(-1)).toEqual({ limit: 30 })
  })

  it('a failed poll changes nothing', async () => {
    const list = useConversationsStore()
    server.pages.push(page([conv('c1', 1, 'r1')]))
    await list.refresh()
    await list.poll()
    expect([list.items[0]!.activeRequestId, list.error]).toEqual(['r1', null])
  })
})
