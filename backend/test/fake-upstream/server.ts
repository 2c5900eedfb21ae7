/**
 * A fake upstream on 127.0.0.1 that speaks both ChatGPT's web `backend-api` (under /backend-api/)
 * and OpenAI's Chat Completions (under /v1/), with knobs for pacing and failures (see knobs.ts).
 * Used by provider and end-to-end tests and by the benchmarks; runnable on its own:
 *
 *   tsx backend/test/fake-upstream/server.ts --port 7999 [--gap-ms 20 --chunks 50 ...]
 *
 * It records every request and counts connections closed before the reply ended ("aborted"), so
 * a test can prove that a stop reached the upstream. `GET /__stats` returns the counts.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { FakeConversation } from './chatgpt.js'
import type { FakeKnobs } from './knobs.js'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import process from 'node:process'
import { pathToFileURL } from 'node:url'
import { defaultAnswer, leakyDetail, recordTurn, streamConversation } from './chatgpt.js'
import { cleanKnobs, DEFAULT_KNOBS, generatedAnswer, knobsFromHeader, knobsFromPrompt } from './knobs.js'
import { completionJson, streamCompletion } from './openai.js'
import { SseWriter } from './writer.js'

export type { FakeKnobs } from './knobs.js'

export interface FakeUpstreamOptions {
  port?: number
  host?: string
  /** The ChatGPT access token it accepts. */
  accessToken?: string
  /** The OpenAI API key it accepts. */
  apiKey?: string
  knobs?: Partial<FakeKnobs>
}

export interface RecordedRequest {
  seq: number
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: any
  /** The reply ended normally. */
  completed: boolean
  /** The client closed the connection before the reply ended. */
  aborted: boolean
  /** The client's port: equal ports on successive requests mean a reused connection. */
  remotePort: number
}

export interface FakeStats {
  started: number
  completed: number
  aborted: number
  /** Answer text streamed on the OpenAI side so far, in UTF-16 code units (what a server holding it keeps). */
  textSent: number
}

export interface FakeUpstream {
  /** http://127.0.0.1:PORT */
  url: string
  port: number
  /** Base URL for a chatgpt-web upstream (`…/backend-api/`). */
  chatgptBaseUrl: string
  /** Base URL for an openai upstream (`…/v1`). */
  openaiBaseUrl: string
  accessToken: string
  apiKey: string
  requests: RecordedRequest[]
  conversations: Map<string, FakeConversation>
  /** Credentials it accepts (ChatGPT access tokens and API keys): add more to stand for several accounts. */
  accepted: Set<string>
  /** Knobs for requests made with one credential (e.g. one account of a pool rate limited). */
  knobsFor: Map<string, Partial<FakeKnobs>>
  /**
   * `GET /api/auth/session` (chatgpt.com's own token exchange): a session token it knows gets a fresh
   * access token (accepted from then on), `{ accessToken, expires }`; with `rotate`, a new session
   * token in `Set-Cookie` too. Each exchange is counted in `refreshes`.
   */
  sessions: Map<string, { ttlSeconds: number, rotate?: boolean }>
  readonly refreshes: number
  /** Connections closed by the client before the reply ended. */
  readonly aborts: number
  stats: () => FakeStats
  /** Changes the server-wide knobs (per-request header/prompt knobs still override). */
  set: (knobs: Partial<FakeKnobs>) => void
  /** Back to the starting knobs; forgets requests, counts and conversations. */
  reset: () => void
  /** Resolves when `pred()` holds, polling; rejects after `timeoutMs`. */
  waitFor: (pred: () => boolean, timeoutMs?: number) => Promise<void>
  close: () => Promise<void>
}

async function readBody(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = []
  for await (const c of req)
    chunks.push(c as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  if (!text)
    return undefined
  try {
    return JSON.parse(text)
  }
  catch {
    return text
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

/** A JWT-shaped token (unsigned) carrying `exp`, as ChatGPT's access tokens do. */
export function fakeJwt(payload: Record<string, unknown>): string {
  const part = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(payload)}.fakesignature`
}

function bearer(req: IncomingMessage): string {
  const h = req.headers.authorization ?? ''
  return h.startsWith('Bearer ') ? h.slice(7) : ''
}

/** Answers a knob-requested failure status. Returns true when it did. */
function failByKnob(res: ServerResponse, k: FakeKnobs, token: string): boolean {
  if (!k.status)
    return false
  if (k.status === 429) {
    const headers: Record<string, string> = k.retryAfter ? { 'retry-after': String(k.retryAfter) } : {}
    const body = k.clearsIn
      ? { detail: { message: 'You have sent too many messages to the model. Please try again later.', clears_in: k.clearsIn } }
      : { detail: leakyDetail('Too many requests', token) }
    json(res, 429, body, headers)
    return true
  }
  if (k.status >= 500) {
    res.writeHead(k.status, { 'content-type': 'text/html' })
    res.end(`<html><head><title>${k.status} Internal Server Error</title></head><body>${leakyDetail('Internal error', token)}</body></html>`)
    return true
  }
  json(res, k.status, { detail: leakyDetail(`Request refused (${k.status})`, token) })
  return true
}

function sseHead(res: ServerResponse): void {
  res.socket?.setNoDelay(true)
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
}

export async function startFakeUpstream(opts: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const accessToken = opts.accessToken ?? 'fake-access-token-0123456789'
  const apiKey = opts.apiKey ?? 'sk-fake-0123456789abcdef'
  const startKnobs: FakeKnobs = { ...DEFAULT_KNOBS, ...cleanKnobs(opts.knobs ?? {}) }
  let knobs: FakeKnobs = { ...startKnobs }
  const requests: RecordedRequest[] = []
  const conversations = new Map<string, FakeConversation>()
  const stats: FakeStats = { started: 0, completed: 0, aborted: 0, textSent: 0 }
  const accepted = new Set([accessToken, apiKey])
  const knobsFor = new Map<string, Partial<FakeKnobs>>()
  const sessions = new Map<string, { ttlSeconds: number, rotate?: boolean }>()
  let refreshes = 0
  const owners = new Map<string, string>()

  async function handle(req: IncomingMessage, res: ServerResponse, rec: RecordedRequest): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    const path = url.pathname
    const method = req.method ?? 'GET'
    if (path === '/__stats')
      return json(res, 200, stats)

    rec.body = await readBody(req)
    const body = rec.body ?? {}
    if (method === 'GET' && path === '/api/auth/session') {
      const cookie = /__Secure-next-auth\.session-token=([^;\s]+)/.exec(req.headers.cookie ?? '')?.[1] ?? ''
      const session = sessions.get(cookie)
      if (!session)
        return json(res, 200, {})
      refreshes++
      const exp = Math.floor(Date.now() / 1000) + session.ttlSeconds
      const token = fakeJwt({ exp, n: refreshes })
      accepted.add(token)
      const headers: Record<string, string> = {}
      if (session.rotate) {
        const next = `${cookie}-r${refreshes}`
        sessions.set(next, session)
        headers['set-cookie'] = `__Secure-next-auth.session-token=${next}; Path=/; HttpOnly; Secure; SameSite=Lax`
      }
      return json(res, 200, { user: { email: 'owner@example.com' }, expires: new Date(exp * 1000).toISOString(), accessToken: token }, headers)
    }
    const isOpenai = path.startsWith('/v1/')
    const token = bearer(req)
    const isValid = token !== '' && accepted.has(token) && (token === (isOpenai ? apiKey : accessToken) || token.startsWith('sk-') === isOpenai)
    if (!isValid) {
      return isOpenai
        ? json(res, 401, { error: { message: `Incorrect API key provided: ${token}. Contact owner@example.com.`, type: 'invalid_request_error', code: 'invalid_api_key' } })
        : json(res, 401, { detail: leakyDetail('Invalid access token', token) })
    }

    if (isOpenai && method === 'GET' && path === '/v1/models')
      return json(res, 200, { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', owned_by: 'fake' }] })
    if (method === 'GET' && path === '/backend-api/accounts/check/v4-2023-04-27')
      return json(res, 200, { accounts: { default: { account: { account_id: 'acc-fake', plan_type: 'plus' } } }, account_ordering: ['default'] })
    if (isOpenai && method === 'POST' && path === '/v1/chat/completions') {
      const messages = Array.isArray(body.messages) ? body.messages : []
      const prompt = String([...messages].reverse().find((m: any) => m?.role === 'user')?.content ?? '')
      const k: FakeKnobs = { ...knobs, ...knobsFor.get(token), ...knobsFromHeader(req.headers['x-fake-upstream']), ...knobsFromPrompt(prompt) }
      await sleep(k.firstTokenMs, res)
      if (failByKnob(res, k, token))
        return
      const turn = { model: String(body.model ?? ''), prompt, promptChars: messages.reduce((n: number, m: any) => n + String(m?.content ?? '').length, 0), includeUsage: body.stream_options?.include_usage === true }
      const answer = k.answer || (k.answerChars > 0 ? generatedAnswer(k.answerChars) : defaultAnswer(prompt, false))
      if (!body.stream || k.json)
        return completionJson(res, k, turn, answer)
      sseHead(res)
      await streamCompletion(new SseWriter(res, k), k, turn, answer, (piece) => {
        stats.textSent += piece.length
      })
      return
    }

    if (!path.startsWith('/backend-api/'))
      return json(res, 404, { detail: 'Not Found' })
    const rest = path.slice('/backend-api/'.length)

    if (method === 'POST' && rest === 'conversation') {
      const isContinue = body.action === 'continue'
      const prompt = isContinue ? '' : String(body.messages?.[0]?.content?.parts?.[0] ?? '')
      const k: FakeKnobs = { ...knobs, ...knobsFor.get(token), ...knobsFromHeader(req.headers['x-fake-upstream']), ...knobsFromPrompt(prompt) }
      if (!body.parent_message_id || (!isContinue && !body.messages?.[0]?.id) || !body.model)
        return json(res, 400, { detail: 'parent_message_id, messages[0].id and model are required' })
      // A conversation belongs to the account that started it: another account's token does not see it.
      if (body.conversation_id && (!conversations.has(body.conversation_id) || (owners.get(body.conversation_id) ?? token) !== token))
        return json(res, 404, { detail: 'Conversation not found' })
      await sleep(k.firstTokenMs, res)
      if (failByKnob(res, k, token))
        return
      const turn = {
        conversationId: body.conversation_id ?? randomUUID(),
        isNew: !body.conversation_id,
        userMessageId: isContinue ? null : String(body.messages[0].id),
        assistantMessageId: randomUUID(),
        prompt,
        model: String(body.model),
        isContinue,
      }
      if (turn.isNew)
        owners.set(turn.conversationId, token)
      if (k.json) {
        return json(res, 200, {
          wss_url: `wss://fake.webpubsub.azure.com/client/hubs/conversations?access_token=${leakyDetail('x', token)}`,
          expires_at: new Date(Date.now() + 3600_000).toISOString(),
          conversation_id: turn.conversationId,
          response_id: randomUUID(),
        })
      }
      const answer = k.answer || (k.answerChars > 0 ? generatedAnswer(k.answerChars) : defaultAnswer(prompt, isContinue))
      recordTurn(conversations, turn, answer)
      sseHead(res)
      await streamConversation(new SseWriter(res, k), k, turn, answer)
      return
    }

    if (method === 'GET' && rest === 'conversations') {
      const offset = Number(url.searchParams.get('offset') ?? 0)
      const limit = Number(url.searchParams.get('limit') ?? 20)
      const visible = [...conversations.values()].filter(c => c.is_visible).reverse()
      const items = visible.slice(offset, offset + limit).map(({ id, title, create_time, update_time }) => ({ id, title, create_time, update_time, unknown_field: null }))
      return json(res, 200, { items, total: visible.length, limit, offset, has_missing_conversations: false })
    }

    const gen = /^conversation\/gen_title\/([^/]+)$/.exec(rest)
    if (method === 'POST' && gen) {
      const conv = conversations.get(decodeURIComponent(gen[1]!))
      if (!conv)
        return json(res, 404, { detail: 'Conversation not found' })
      if (!conv.mapping[String(body.message_id)])
        return json(res, 200, { message: 'Message not found' })
      conv.title = knobs.title || 'Generated title'
      return json(res, 200, { title: conv.title })
    }

    const one = /^conversation\/([^/]+)$/.exec(rest)
    if (one) {
      const conv = conversations.get(decodeURIComponent(one[1]!))
      if (!conv || !conv.is_visible)
        return json(res, 404, { detail: 'Conversation not found' })
      if (method === 'GET')
        return json(res, 200, { ...conv, create_time: Date.parse(conv.create_time) / 1000, update_time: Date.parse(conv.update_time) / 1000, moderation_results: [] })
      if (method === 'PATCH') {
        if (typeof body.title === 'string')
          conv.title = body.title
        if (body.is_visible === false)
          conv.is_visible = false
        return json(res, 200, { success: true })
      }
    }
    return json(res, 404, { detail: 'Not Found' })
  }

  const server: Server = createServer((req, res) => {
    const rec: RecordedRequest = { seq: requests.length + 1, method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: undefined, completed: false, aborted: false, remotePort: req.socket.remotePort ?? 0 }
    const counted = req.url !== '/__stats'
    if (counted) {
      requests.push(rec)
      stats.started++
    }
    res.on('close', () => {
      if (!counted)
        return
      if (res.writableFinished) {
        rec.completed = true
        stats.completed++
      }
      else {
        rec.aborted = true
        stats.aborted++
      }
    })
    handle(req, res, rec).catch(() => {
      if (!res.headersSent)
        json(res, 500, { detail: 'fake upstream crashed' })
      else res.destroy()
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const url = `http://127.0.0.1:${port}`

  return {
    url,
    port,
    chatgptBaseUrl: `${url}/backend-api/`,
    openaiBaseUrl: `${url}/v1`,
    accessToken,
    apiKey,
    requests,
    conversations,
    accepted,
    knobsFor,
    sessions,
    get refreshes() {
      return refreshes
    },
    get aborts() {
      return stats.aborted
    },
    stats: () => ({ ...stats }),
    set: (k) => {
      knobs = { ...knobs, ...cleanKnobs(k) }
    },
    reset: () => {
      knobs = { ...startKnobs }
      requests.length = 0
      conversations.clear()
      stats.started = stats.completed = stats.aborted = stats.textSent = 0
    },
    waitFor: async (pred, timeoutMs = 2000) => {
      const until = Date.now() + timeoutMs
      while (!pred()) {
        if (Date.now() > until)
          throw new Error('fake upstream: condition not met in time')
        await new Promise(resolve => setTimeout(resolve, 10))
      }
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/** Waits, unless the client went away first. */
function sleep(ms: number, res: ServerResponse): Promise<void> {
  if (ms <= 0)
    return Promise.resolve()
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      res.off('close', done)
      resolve()
    }
    res.once('close', done)
  })
}

/** `--port 7999 --gap-ms 20` → { port: 7999, knobs: { gapMs: 20 } } */
function parseArgs(argv: string[]): FakeUpstreamOptions {
  const opts: FakeUpstreamOptions = { knobs: {} }
  const raw: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--'))
      continue
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined]
    const value = inline ?? argv[++i] ?? ''
    const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
    if (camel === 'port')
      opts.port = Number(value)
    else if (camel === 'host')
      opts.host = value
    else if (camel === 'accessToken')
      opts.accessToken = value
    else if (camel === 'apiKey')
      opts.apiKey = value
    else raw[camel] = value
  }
  opts.knobs = cleanKnobs(raw)
  return opts
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const fake = await startFakeUpstream({ port: 7999, ...parseArgs(process.argv.slice(2)) })
  console.log(`fake upstream on ${fake.url}`)
  console.log(`  chatgpt-web base_url: ${fake.chatgptBaseUrl}  access_token: ${fake.accessToken}`)
  console.log(`  openai      base_url: ${fake.openaiBaseUrl}  api_key: ${fake.apiKey}`)
  const stop = (): void => {
    void fake.close().then(() => process.exit(0))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
