/**
 * Knobs of the fake upstream. Set per server (`set()`), per request by the `x-fake-upstream` header
 * (JSON), or inside the prompt text as `[[fake: status=429, retryAfter=3]]` — so end-to-end tests
 * through our own server can steer the upstream behind it. Later sources override earlier ones.
 */
export interface FakeKnobs {
  /** Delay before the first answer byte, ms. */
  firstTokenMs: number
  /** Number of text chunks the answer is streamed in. */
  chunks: number
  /** Gap between chunks, ms. */
  gapMs: number
  /** The answer text ("" = a default that echoes the question). */
  answer: string
  /** When > 0 (and no `answer`): a generated answer of this many characters (benchmarks). */
  answerChars: number
  /** Fail at once with this HTTP status (401, 403, 429, 500, …). */
  status: number
  /** `Retry-After` header on a 429, seconds. */
  retryAfter: number
  /** ChatGPT's `detail.clears_in` in a 429 body, seconds. */
  clearsIn: number
  /** Destroy the socket after this many chunks (-1 = never). */
  resetAfter: number
  /** Stop sending after this many chunks, keeping the socket open (-1 = never). */
  stallAfter: number
  /** End the response cleanly (no `[DONE]`) after this many chunks (-1 = never). */
  endAfter: number
  /** Send an in-stream `error` event after this many chunks (-1 = never). */
  errorAfter: number
  /** ChatGPT: "classic" cumulative parts or the "v1" delta encoding. */
  encoding: 'classic' | 'v1'
  /** CRLF line endings in the SSE framing. */
  crlf: boolean
  /** Write every event in tiny pieces (a few bytes, splitting multi-byte characters). */
  split: boolean
  /** ChatGPT: interleave an echoed user message, a tool call and result, moderation, junk lines and unknown fields. */
  extras: boolean
  /** ChatGPT: title sent in a `title_generation` event on new conversations ("" = none). */
  title: string
  /** ChatGPT finish_details type / OpenAI finish_reason of the answer. */
  finish: 'stop' | 'max_tokens' | 'length'
  /** Reply with one JSON body instead of a stream (OpenAI: `choices[0].message`; ChatGPT: obsolete `wss_url`). */
  json: boolean
}

export const DEFAULT_KNOBS: FakeKnobs = {
  firstTokenMs: 0,
  chunks: 6,
  gapMs: 0,
  answer: '',
  answerChars: 0,
  status: 0,
  retryAfter: 0,
  clearsIn: 0,
  resetAfter: -1,
  stallAfter: -1,
  errorAfter: -1,
  endAfter: -1,
  encoding: 'classic',
  crlf: false,
  split: false,
  extras: true,
  title: 'Fake title',
  finish: 'stop',
  json: false,
}

function coerce(key: keyof FakeKnobs, raw: unknown): unknown {
  const kind = typeof DEFAULT_KNOBS[key]
  if (kind === 'number')
    return Number(raw)
  if (kind === 'boolean')
    return raw === true || raw === 'true' || raw === '1' || raw === 1
  return String(raw)
}

/** Keeps only known knobs, converted to their types. */
export function cleanKnobs(raw: Record<string, unknown>): Partial<FakeKnobs> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (k in DEFAULT_KNOBS)
      out[k] = coerce(k as keyof FakeKnobs, v)
  }
  return out as Partial<FakeKnobs>
}

/** `[[fake: a=1, b=two]]` anywhere in a prompt. */
export function knobsFromPrompt(text: string): Partial<FakeKnobs> {
  const m = /\[\[fake:([^\]]*)\]\]/.exec(text)
  if (!m)
    return {}
  const raw: Record<string, string> = {}
  for (const part of m[1]!.split(',')) {
    const [k, ...rest] = part.split('=')
    if (k?.trim() && rest.length)
      raw[k.trim()] = rest.join('=').trim()
  }
  return cleanKnobs(raw)
}

export function knobsFromHeader(value: string | string[] | undefined): Partial<FakeKnobs> {
  const v = Array.isArray(value) ? value[0] : value
  if (!v)
    return {}
  try {
    const parsed = JSON.parse(v) as unknown
    return parsed && typeof parsed === 'object' ? cleanKnobs(parsed as Record<string, unknown>) : {}
  }
  catch {
    return {}
  }
}

/** Splits text into `n` chunks of code points (never inside a character). */
export function splitText(text: string, n: number): string[] {
  let total = 0
  for (let i = 0; i < text.length; i += text.codePointAt(i)! > 0xFFFF ? 2 : 1)
    total++
  const count = Math.max(1, Math.min(n, total || 1))
  const size = Math.ceil(total / count)
  // Walked by index, not spread into an array: a fast soak answer has millions of characters.
  const out: string[] = []
  let start = 0
  let inPiece = 0
  for (let i = 0; i < text.length;) {
    i += text.codePointAt(i)! > 0xFFFF ? 2 : 1
    if (++inPiece === size) {
      out.push(text.slice(start, i))
      start = i
      inPiece = 0
    }
  }
  if (start < text.length)
    out.push(text.slice(start))
  return out.length ? out : ['']
}

const FILLER = 'Lorem ipsum dolor sit amet, 多字节 text ✅ and `code` — consectetur adipiscing elit.\n'

/** A deterministic answer of exactly `n` characters (code points); the last one is reused (20 asks at once may want millions). */
let lastGenerated: { n: number, text: string } | undefined
export function generatedAnswer(n: number): string {
  if (lastGenerated?.n === n)
    return lastGenerated.text
  const unit = [...FILLER]
  const text = FILLER.repeat(Math.floor(n / unit.length)) + unit.slice(0, n % unit.length).join('')
  lastGenerated = { n, text }
  return text
}
