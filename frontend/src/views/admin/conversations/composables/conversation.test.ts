import type { AdminConversationDetail, MessageView } from '@cws/backend/contracts'
import { describe, expect, it } from 'vitest'
import { conversationToMarkdown } from '../../../../utils/export/markdown'
import { latestThread, listQuery, memberLabel, ownerName, toExport } from './conversation'

function msg(id: string, parentId: string | null, role: 'user' | 'assistant', content: string, fields: Partial<MessageView> = {}): MessageView {
  const at = `2024-05-06T07:0${id.length}:00.000Z`
  return { id, parentId, role, content, status: 'done', model: 'gpt-4o', finishReason: role === 'assistant' ? 'stop' : null, errorCode: null, createdAt: at, updatedAt: at, ...fields }
}

/** q1 → a1 (regenerated as a1b) → q2 → a2: the latest branch is q1, a1b, q2, a2. */
const DETAIL: AdminConversationDetail = {
  id: 'c1',
  title: 'Binary search',
  model: 'gpt-4o',
  createdAt: '2024-05-06T07:00:00.000Z',
  updatedAt: '2024-05-06T08:00:00.000Z',
  activeRequestId: null,
  upstreamId: 'main',
  owner: { id: 7, username: 'mia', nickname: 'Mia Chen' },
  messageCount: 5,
  messages: [
    msg('q1', null, 'user', 'How does binary search work?'),
    msg('a1', 'q1', 'assistant', 'First answer, replaced'),
    msg('a1b', 'q1', 'assistant', 'Second answer'),
    msg('q2', 'a1b', 'user', 'And its cost?'),
    msg('a2', 'q2', 'assistant', 'O(log n)', { status: 'stopped', model: 'mini' }),
  ],
}

describe('admin conversations helpers', () => {
  it('names an owner by nickname, else username; the member select shows both', () => {
    expect(ownerName({ username: 'mia', nickname: 'Mia Chen' })).toBe('Mia Chen')
    expect(ownerName({ username: 'noah', nickname: '' })).toBe('noah')
    expect(ownerName({ username: 'noah', nickname: '  ' })).toBe('noah')
    expect(memberLabel({ username: 'mia', nickname: 'Mia Chen' })).toBe('mia (Mia Chen)')
    expect(memberLabel({ username: 'noah', nickname: '' })).toBe('noah')
  })

  it('asks for the page with only the filters in use (a blank search is no search)', () => {
    expect(listQuery({ userId: null, q: '   ', page: 1, pageSize: 20 })).toEqual({ page: 1, limit: 20 })
    expect(listQuery({ userId: 7, q: ' kyoto ', page: 3, pageSize: 50 })).toEqual({ page: 3, limit: 50, userId: 7, q: 'kyoto' })
  })

  it('shows the latest branch, root first, without the answer that was regenerated', () => {
    expect(latestThread(DETAIL).map(m => m.id)).toEqual(['q1', 'a1b', 'q2', 'a2'])
    expect(latestThread({ messages: [] })).toEqual([])
  })

  it('exports that branch to Markdown under the owner\'s name, models by display name', () => {
    const names: Record<string, string> = { 'gpt-4o': 'GPT-4o', 'mini': 'Mini' }
    const conv = toExport(DETAIL, k => names[k] ?? k, 'New chat')
    expect(conv.model).toBe('GPT-4o')
    expect(conv.turns.map(t => t.content)).toEqual(['How does binary search work?', 'Second answer', 'And its cost?', 'O(log n)'])
    const md = conversationToMarkdown(conv, { user: 'Mia Chen', assistant: 'Assistant', date: 'Date', model: 'Model', exportedFrom: 'x', untitled: 'New chat', status: { stopped: '(Stopped)' } })
    expect(md.startsWith('# Binary search\n')).toBe(true)
    expect(md.match(/^## Mia Chen$/gm)).toHaveLength(2)
    expect(md).toContain('## Assistant (Mini) (Stopped)')
    expect(md).not.toContain('First answer, replaced')
    expect(toExport({ ...DETAIL, title: ' ' }, k => k, 'New chat').title).toBe('New chat')
  })
})
