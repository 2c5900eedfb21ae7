/**
 * The ChatGPT web `backend-api` side of the fake upstream: SSE replies in the classic cumulative
 * format or the "v1" delta encoding (docs/architecture.md, "Upstream wire formats"), and the conversation management calls.
 */
import type { FakeKnobs } from './knobs.js'
import type { SseWriter } from './writer.js'
import { randomUUID } from 'node:crypto'
import { splitText } from './knobs.js'

export interface FakeConversation {
  id: string
  title: string
  create_time: string
  update_time: string
  is_visible: boolean
  current_node: string
  mapping: Record<string, { id: string, message: unknown, parent: string | null, children: string[] }>
}

/** A string that looks like secrets, so tests can prove that error bodies are redacted. */
export function leakyDetail(what: string, token: string): string {
  return `${what} for owner@example.com (token Bearer ${token || 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'})`
}

function message(id: string, role: string, content: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    author: { role, name: role === 'tool' ? 'browser' : null, metadata: {} },
    create_time: Date.now() / 1000,
    update_time: null,
    content,
    status: 'finished_successfully',
    end_turn: null,
    weight: 1,
    metadata: { message_type: 'next', model_slug: 'gpt-4o', timestamp_: 'absolute' },
    recipient: 'all',
    ...extra,
  }
}

export interface ConversationTurn {
  conversationId: string
  isNew: boolean
  userMessageId: string | null
  assistantMessageId: string
  prompt: string
  model: string
  isContinue: boolean
}

export function defaultAnswer(prompt: string, isContinue: boolean): string {
  if (isContinue)
    return '…and that is the rest of it. 续写完毕 ✅'
  const q = [...prompt.replace(/\[\[fake:[^\]]*\]\]/g, '').trim()].slice(0, 80).join('')
  return `Fake answer to “${q}”. 你好，世界 🌍 — done.`
}

/**
 * Streams one answer. Returns false when the knobs cut it (reset, stall, error), true when it
 * completed with `[DONE]`.
 */
export async function streamConversation(w: SseWriter, k: FakeKnobs, turn: ConversationTurn, answer: string): Promise<boolean> {
  const v1 = k.encoding === 'v1'
  const cid = turn.conversationId
  const aid = turn.assistantMessageId
  const chunks = splitText(answer, k.chunks)
  const envelope = (msg: unknown): Record<string, unknown> => ({ message: msg, conversation_id: cid, error: null })
  let doc = 0
  const addDoc = async (msg: unknown): Promise<void> => {
    if (v1)
      await w.event('delta', { p: '', o: 'add', v: envelope(msg), c: doc++ })
    else await w.data(envelope(msg))
  }

  if (v1)
    await w.event('delta_encoding', 'v1')
  if (k.extras) {
    await w.comment('keep-alive')
    if (turn.userMessageId)
      await addDoc(message(turn.userMessageId, 'user', { content_type: 'text', parts: [turn.prompt] }))
    await w.data({ type: 'server_ste_metadata', metadata: { tool_invoked: true, turn_exchange_count: 0, unknown_field: { nested: [1, 2] } }, conversation_id: cid })
    await w.raw('data: this line is not JSON\n\n')
    await addDoc(message(randomUUID(), 'assistant', { content_type: 'code', language: 'unknown', text: 'search("fake")' }, { recipient: 'browser' }))
    await addDoc(message(randomUUID(), 'tool', { content_type: 'tether_quote', url: 'https://example.com', title: 'Example', text: 'A quoted page. Tool output is not the answer.' }))
  }

  const finished = { status: 'finished_successfully', end_turn: true, metadata: { finish_details: { type: k.finish === 'length' ? 'max_tokens' : k.finish, stop_tokens: [100260] } } }
  const base = message(aid, 'assistant', { content_type: 'text', parts: [''] }, {
    status: 'in_progress',
    metadata: { message_type: turn.isContinue ? 'continue' : 'next', model_slug: turn.model, parent_id: turn.userMessageId, finish_details: null, citations: [{ start_ix: 0 }], unknown_flag: false },
  })
  if (v1)
    await addDoc(base)

  let text = ''
  let explicitNext = true
  const errorEvent = { message: null, conversation_id: cid, error: leakyDetail('Something went wrong', '') }
  for (const [i, chunk] of chunks.entries()) {
    if (!await w.beforePiece(i, errorEvent))
      return false
    text += chunk
    const last = i === chunks.length - 1
    if (!v1) {
      await w.data({ ...envelope({ ...base, content: { content_type: 'text', parts: [text] }, ...(last ? finished : {}) }), unknown_top_level: i })
    }
    else if (last) {
      await w.event('delta', { p: '', o: 'patch', v: [
        { p: '/message/content/parts/0', o: 'append', v: chunk },
        { p: '/message/status', o: 'replace', v: 'finished_successfully' },
        { p: '/message/end_turn', o: 'replace', v: true },
        { p: '/message/metadata', o: 'append', v: { finish_details: finished.metadata.finish_details } },
      ] })
    }
    else if (explicitNext) {
      await w.event('delta', { p: '/message/content/parts/0', o: 'append', v: chunk })
      explicitNext = false
    }
    else if (k.extras && i % 3 === 2) {
      // Every op kind once in a while: patch with add/replace/truncate/remove on other fields.
      await w.event('delta', { p: '', o: 'patch', v: [
        { p: '/message/metadata/unknown_flag', o: 'replace', v: true },
        { p: '/message/metadata/citations', o: 'truncate', v: 0 },
        { p: '/message/metadata/extra', o: 'add', v: { k: 'v' } },
        { p: '/message/content/parts/0', o: 'append', v: chunk },
        { p: '/message/metadata/extra', o: 'remove' },
      ] })
      explicitNext = true
    }
    else {
      await w.event('delta', { v: chunk })
    }
    if (i === 0 && k.extras)
      await w.data({ conversation_id: cid, message_id: aid, is_completion: false, moderation_response: { flagged: false, blocked: false, moderation_id: 'modr-1' } })
  }
  if (turn.isNew && k.title)
    await w.data({ type: 'title_generation', title: k.title, conversation_id: cid })
  await w.data({ type: 'message_stream_complete', conversation_id: cid })
  await w.done()
  return true
}

export function recordTurn(conversations: Map<string, FakeConversation>, turn: ConversationTurn, answer: string): void {
  const now = new Date().toISOString()
  let conv = conversations.get(turn.conversationId)
  if (!conv) {
    conv = { id: turn.conversationId, title: 'New chat', create_time: now, update_time: now, is_visible: true, current_node: '', mapping: {} }
    conversations.set(conv.id, conv)
  }
  const parent = conv.current_node || null
  if (turn.userMessageId) {
    conv.mapping[turn.userMessageId] = { id: turn.userMessageId, parent, children: [turn.assistantMessageId], message: message(turn.userMessageId, 'user', { content_type: 'text', parts: [turn.prompt] }) }
    if (parent)
      conv.mapping[parent]?.children.push(turn.userMessageId)
  }
  conv.mapping[turn.assistantMessageId] = { id: turn.assistantMessageId, parent: turn.userMessageId ?? parent, children: [], message: message(turn.assistantMessageId, 'assistant', { content_type: 'text', parts: [answer] }) }
  conv.current_node = turn.assistantMessageId
  conv.update_time = now
}
