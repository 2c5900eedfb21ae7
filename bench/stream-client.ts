/**
 * The client side of `bench/stream.ts`: one streamed answer (direct from the fake upstream, or
 * through our server) timed to its first text, and groups of them started at once or spread over a
 * window ("200 within 100 ms").
 */
import { dispatcher, undici } from './support.js'

const { request } = undici

export interface StreamResult { ok: boolean, ttftMs: number, error?: string }

/** `firstText` is called at the first text; with `release`, the stream is then held open until it resolves and disconnected (else read to its end). */
export interface Hold { firstText: () => void, release?: Promise<void> }

/**
 * One streamed answer. `firstMark` is what marks the first text in the stream (a string in it, or a
 * pattern); see `Hold`.
 */
export async function stream(url: string, body: unknown, token: string, firstMark: string | RegExp, hold?: Hold): Promise<StreamResult> {
  const t0 = performance.now()
  let ttftMs = -1
  try {
    const res = await request(url, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json', 'authorization': `Bearer ${token}` }, body: JSON.stringify(body) })
    if (res.statusCode !== 200) {
      const text = await res.body.text()
      return { ok: false, ttftMs, error: `${res.statusCode} ${text.slice(0, 200)}` }
    }
    let seen = ''
    let error: string | undefined
    for await (const chunk of res.body) {
      const s = chunk.toString()
      if (ttftMs < 0) {
        seen += s
        if (typeof firstMark === 'string' ? seen.includes(firstMark) : firstMark.test(seen)) {
          ttftMs = performance.now() - t0
          seen = ''
          hold?.firstText()
          if (hold?.release) {
            await hold.release
            res.body.destroy()
            return { ok: true, ttftMs }
          }
        }
      }
      if (s.includes('event: error'))
        error = s.slice(s.indexOf('event: error'), s.indexOf('event: error') + 200)
    }
    if (ttftMs < 0)
      return { ok: false, ttftMs, error: error ?? 'no text' }
    return { ok: !error, ttftMs, error }
  }
  catch (err) {
    return { ok: false, ttftMs, error: String(err) }
  }
}

export const API_KEY = 'sk-fake-0123456789abcdef'
const ANSWER = 'Hello from the fake upstream, streamed in a few chunks.'
/** A quick answer: four chunks, no gaps. */
export const quick = (i: number): string => `[[fake: answer=${ANSWER}, chunks=4]] question ${i}`
/** A slow answer: 2000 characters in 100 chunks, 50 ms apart (about 5 s). */
export const slow = (i: number): string => `[[fake: answerChars=2000, chunks=100, gapMs=50]] slow ${i}`

/** The first chunk with text in an OpenAI stream (the one before it carries the role and empty content). */
const FIRST_TEXT = /"delta":\{"content":"[^"]/

export interface Sides {
  /** Straight from the fake upstream. */
  direct: (i: number, content: string) => Promise<StreamResult>
  /** Through our server. */
  ours: (i: number, content: string) => Promise<StreamResult>
}

export function sides(fake: string, base: string, upstreams: number, token: (i: number) => string): Sides {
  return {
    direct: (_i, content) => stream(`${fake}/v1/chat/completions`, { model: 'gpt', stream: true, messages: [{ role: 'user', content }] }, API_KEY, FIRST_TEXT),
    ours: (i, content) => stream(`${base}/api/chat`, { model: `m${i % upstreams}`, content }, token(i), 'event: delta'),
  }
}

/** Starts `n` calls evenly over `windowMs` (0: all at once) and waits for all of them. */
export async function spread<T>(n: number, windowMs: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const t0 = performance.now()
  const all: Promise<T>[] = []
  for (let i = 0; i < n; i++) {
    const at = (i * windowMs) / n
    const wait = at - (performance.now() - t0)
    if (wait >= 1)
      await new Promise(r => setTimeout(r, wait))
    all.push(call(i))
  }
  return Promise.all(all)
}
