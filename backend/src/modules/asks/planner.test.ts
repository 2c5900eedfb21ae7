import type { StoredConversation, StoredMessage } from './asks.repository.js'
import { describe, expect, it } from 'vitest'
import { boundedHistory, planAsk } from './planner.js'

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s))
function msg(id: string, parentId: string | null, role: 'user' | 'assistant', content: string, extra: Partial<StoredMessage> = {}): StoredMessage {
  return { id, parentId, role, content, status: 'done', model: 'm', upstreamMessageId: null, finishReason: 'stop', createdAt: at(Number(id.slice(1))), ...extra }
}
// q1 → a1 → q2 → a2 (regenerated: a2b)
const messages = [
  msg('q1', null, 'user', 'first question'),
  msg('a1', 'q1', 'assistant', 'first answer', { upstreamMessageId: 'up-a1' }),
  msg('q2', 'a1', 'user', 'second question'),
  msg('a2', 'q2', 'assistant', 'second answer', { upstreamMessageId: 'up-a2' }),
  msg('a3', 'q2', 'assistant', 'cut answ', { finishReason: 'length', upstreamMessageId: 'up-a3' }),
]
const conv: StoredConversation = { id: 'c', userId: 1, title: 't', model: 'm', upstreamId: 'u', upstreamConversationId: 'up-c', accountId: null, messages }
const base = { content: '', conversation: conv, upstreamKeepsContext: false, historyMaxChars: 10_000 }

describe('planner', () => {
  it('next: a new question after the newest message, with the history of that branch', () => {
    const p = planAsk({ ...base, action: 'next', content: 'third?' })
    expect(p.userMessage).toMatchObject({ parentId: 'a3', content: 'third?' })
    expect(p.assistantMessage).toMatchObject({ parentId: p.userMessage!.id })
    expect(p.input.history!.map(t => t.content)).toEqual(['first question', 'first answer', 'second question', 'cut answ'])
  })

  it('next after a chosen parent follows that branch; ChatGPT web gets the parent ids instead of history', () => {
    const p = planAsk({ ...base, action: 'next', content: 'branch', parentMessageId: 'a2', upstreamKeepsContext: true })
    expect(p.userMessage!.parentId).toBe('a2')
    expect(p.input).toMatchObject({ upstreamConversationId: 'up-c', upstreamParentMessageId: 'up-a2' })
    expect(p.input.history).toBeUndefined()
  })

  it('regenerate answers the question again as a sibling, with a fresh upstream id for it', () => {
    const p = planAsk({ ...base, action: 'regenerate', parentMessageId: 'q2', upstreamKeepsContext: true })
    expect(p.userMessage).toBeUndefined()
    expect(p.assistantMessage!.parentId).toBe('q2')
    expect(p.input.content).toBe('second question')
    expect(p.input.userMessageId).not.toBe('q2')
    expect(p.input.upstreamParentMessageId).toBe('up-a1')
  })

  it('continue reopens an answer cut by length, with its text as the base; refuses any other answer', () => {
    const p = planAsk({ ...base, action: 'continue' })
    expect(p).toMatchObject({ reopenMessageId: 'a3', answerId: 'a3', questionId: 'q2', baseText: 'cut answ' })
    expect(() => planAsk({ ...base, action: 'continue', parentMessageId: 'a2' })).toThrow(/length/)
    expect(() => planAsk({ ...base, action: 'continue', parentMessageId: 'q2' })).toThrow(/answer/)
    expect(() => planAsk({ ...base, action: 'next', content: 'x', parentMessageId: 'nope' })).toThrow(/No such message/)
  })

  it('the history budget keeps the newest turns and never starts with an answer', () => {
    const path = messages.slice(0, 4)
    expect(boundedHistory(path, 30).map(t => t.content)).toEqual(['second question', 'second answer'])
    expect(boundedHistory(path, 14).map(t => t.content)).toEqual([])
  })
})
