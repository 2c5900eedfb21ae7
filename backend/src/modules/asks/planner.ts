/**
 * Plans an ask (pure, no I/O): where it goes in the conversation's message tree, which rows it
 * creates or reopens, and what context goes upstream (ChatGPT web: the parent ids; API upstreams:
 * the newest turns that fit the history budget). See docs/architecture.md, "One ask's path".
 */
import type { ChatAction } from '../../contracts/chat.js'
import type { AskInput, ChatTurn } from '../providers/types.js'
import type { StoredConversation, StoredMessage } from './asks.repository.js'
import { randomUUID } from 'node:crypto'
import { AppError } from '../../lib/errors.js'
import { pathTo } from '../../shared/message-tree.js'

export interface PlanRequest {
  action: ChatAction
  content: string
  parentMessageId?: string
  /** null: a new conversation. */
  conversation: StoredConversation | null
  /** The upstream keeps the conversation itself (ChatGPT web) rather than being sent the history. */
  upstreamKeepsContext: boolean
  historyMaxChars: number
  /** A new conversation that goes on from another one: its earlier turns, copied (carryTurns). */
  carried?: StoredMessage[]
}

export interface PlannedAsk {
  /** `next`: the question row to create. */
  userMessage?: { id: string, parentId: string | null, content: string }
  /** `next`/`regenerate`: the answer row to create. */
  assistantMessage?: { id: string, parentId: string }
  /** `continue`: the answer row to reopen. */
  reopenMessageId?: string
  /** The question this ask answers (for `accepted`). */
  questionId: string
  /** The answer row being written. */
  answerId: string
  /** `continue`: the text already in the answer. */
  baseText: string
  /** What goes upstream, but the model slug and the abort signal. */
  input: Omit<AskInput, 'signal' | 'slug'>
}

/**
 * `continueFrom`: the current branch of `conv` (the path to its newest message), copied with new ids
 * for a new conversation, without upstream ids (they belong to the old conversation's account) and
 * without answers still being written.
 */
export function carryTurns(conv: StoredConversation): StoredMessage[] {
  const byId = new Map(conv.messages.map(m => [m.id, m]))
  const path = pathTo(byId, conv.messages.at(-1)?.id ?? null).filter(m => m.status !== 'streaming' && (m.role === 'user' || m.role === 'assistant'))
  let parentId: string | null = null
  return path.map((m) => {
    const copy: StoredMessage = { ...m, id: randomUUID(), parentId, upstreamMessageId: null }
    parentId = copy.id
    return copy
  })
}

/**
 * ChatGPT web, when the upstream does not hold the earlier turns (a conversation carried over from
 * another account): they go as a marked preface to the question.
 */
function withPreface(turns: ChatTurn[], question: string): string {
  if (!turns.length)
    return question
  const lines = turns.map(t => `${t.role === 'user' ? 'User' : 'Assistant'}: ${t.content}`)
  return `[Earlier turns of this conversation, for context]\n${lines.join('\n\n')}\n[End of earlier turns]\n\n${question}`
}

/** API upstreams: the newest turns of `path` that fit in `budget` characters, oldest first. */
export function boundedHistory(path: StoredMessage[], budget: number): ChatTurn[] {
  const turns: ChatTurn[] = []
  let used = 0
  for (let i = path.length - 1; i >= 0; i--) {
    const m = path[i]!
    if (!m.content || (m.role !== 'user' && m.role !== 'assistant'))
      continue
    used += m.content.length
    if (used > budget)
      break
    turns.push({ role: m.role, content: m.content })
  }
  turns.reverse()
  // Never begin with an answer whose question was cut off.
  while (turns[0]?.role === 'assistant')
    turns.shift()
  return turns
}

export function planAsk(req: PlanRequest): PlannedAsk {
  const conv = req.conversation
  const all = conv?.messages ?? req.carried ?? []
  const byId = new Map(all.map(m => [m.id, m]))
  const pick = (id: string | undefined, role: 'user' | 'assistant', fallback: StoredMessage | undefined): StoredMessage => {
    const m = id ? byId.get(id) : fallback
    if (!m)
      throw new AppError('NOT_FOUND', 'No such message in this conversation.')
    if (m.role !== role)
      throw new AppError('BAD_REQUEST', `parentMessageId must be ${role === 'user' ? 'a question' : 'an answer'} for this action.`)
    return m
  }
  const context = (before: StoredMessage[], question: string): Pick<AskInput, 'content' | 'history' | 'upstreamConversationId' | 'upstreamParentMessageId'> => {
    if (req.upstreamKeepsContext) {
      const parent = [...before].reverse().find(m => m.role === 'assistant' && m.upstreamMessageId)
      return {
        // Earlier answers the upstream does not hold (carried over from another conversation): a preface.
        content: parent || !before.some(m => m.role === 'assistant' && m.status === 'done') ? question : withPreface(boundedHistory(before, req.historyMaxChars), question),
        upstreamConversationId: parent ? conv?.upstreamConversationId ?? null : null,
        upstreamParentMessageId: parent?.upstreamMessageId ?? null,
      }
    }
    return { content: question, history: boundedHistory(before, req.historyMaxChars) }
  }
  const latestAnswer = [...all].reverse().find(m => m.role === 'assistant')

  if (req.action === 'next') {
    const parent = req.parentMessageId ? byId.get(req.parentMessageId) : all.at(-1)
    if (req.parentMessageId && !parent)
      throw new AppError('NOT_FOUND', 'No such message in this conversation.')
    const questionId = randomUUID()
    const answerId = randomUUID()
    return {
      userMessage: { id: questionId, parentId: parent?.id ?? null, content: req.content },
      assistantMessage: { id: answerId, parentId: questionId },
      questionId,
      answerId,
      baseText: '',
      input: { action: 'next', userMessageId: questionId, ...context(pathTo(byId, parent?.id ?? null), req.content) },
    }
  }
  if (req.action === 'regenerate') {
    const fallback = latestAnswer?.parentId ? byId.get(latestAnswer.parentId) : undefined
    const question = pick(req.parentMessageId, 'user', fallback)
    const answerId = randomUUID()
    return {
      assistantMessage: { id: answerId, parentId: question.id },
      questionId: question.id,
      answerId,
      baseText: '',
      // ChatGPT web: a fresh upstream id for the re-asked question (ids must not repeat upstream).
      input: { action: 'next', userMessageId: randomUUID(), ...context(pathTo(byId, question.parentId), question.content) },
    }
  }
  // continue
  const answer = pick(req.parentMessageId, 'assistant', latestAnswer)
  if (answer.finishReason !== 'length')
    throw new AppError('BAD_REQUEST', 'Only an answer cut off by the length limit can be continued.')
  return {
    reopenMessageId: answer.id,
    questionId: answer.parentId ?? answer.id,
    answerId: answer.id,
    baseText: answer.content,
    input: { action: 'continue', ...context(pathTo(byId, answer.id), '') },
  }
}
