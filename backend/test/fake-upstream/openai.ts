/** The OpenAI Chat Completions side of the fake upstream (docs/architecture.md, "Upstream wire formats"), streamed or not. */
import type { ServerResponse } from 'node:http'
import type { FakeKnobs } from './knobs.js'
import type { SseWriter } from './writer.js'
import { randomUUID } from 'node:crypto'
import { leakyDetail } from './chatgpt.js'
import { splitText } from './knobs.js'

export interface CompletionTurn {
  model: string
  prompt: string
  promptChars: number
  includeUsage: boolean
}

function usage(turn: CompletionTurn, answer: string): Record<string, number> {
  const prompt = Math.ceil(turn.promptChars / 4)
  const completion = Math.ceil([...answer].length / 4)
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
}

const finishReason = (k: FakeKnobs): string => (k.finish === 'max_tokens' ? 'length' : k.finish)

export function completionJson(res: ServerResponse, k: FakeKnobs, turn: CompletionTurn, answer: string): void {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: turn.model,
    choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: finishReason(k) }],
    usage: usage(turn, answer),
  }))
}

/** Returns true when the stream completed with `[DONE]`. */
export async function streamCompletion(w: SseWriter, k: FakeKnobs, turn: CompletionTurn, answer: string, sent?: (piece: string) => void): Promise<boolean> {
  const id = `chatcmpl-${randomUUID()}`
  const created = Math.floor(Date.now() / 1000)
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: turn.model,
    system_fingerprint: 'fp_fake',
    choices,
    ...extra,
  })
  if (k.extras)
    await w.comment('PROCESSING')
  await w.data(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]))
  const errorEvent = { error: { message: leakyDetail('The server had an error', ''), type: 'server_error' } }
  for (const [i, piece] of splitText(answer, k.chunks).entries()) {
    if (!await w.beforePiece(i, errorEvent))
      return false
    await w.data(chunk([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]))
    sent?.(piece)
  }
  await w.data(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason(k) }]))
  if (turn.includeUsage)
    await w.data(chunk([], { usage: usage(turn, answer) }))
  await w.done()
  return true
}
