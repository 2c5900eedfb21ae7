/**
 * End-to-end helpers for the chat engine: the real app listening on 127.0.0.1, members logged in
 * through the real login route, and an SSE client (fetch + eventsource-parser) that reads the chat
 * stream incrementally and can disconnect at any point.
 */
import type { ChatBody, ChatStreamEvent } from '../src/contracts/chat.js'
import type { TestApp, TestSession } from './helper.js'
import { createParser } from 'eventsource-parser'
import { buildTestApp, createUser, loginAs } from './helper.js'

export interface ListeningApp extends TestApp {
  base: string
}

export async function startApp(config: Record<string, unknown> = {}, opts: { dataDir?: string } = {}): Promise<ListeningApp> {
  const t = await buildTestApp({ chat: { ping_seconds: 600 }, ...config }, opts)
  await t.app.listen({ port: 0, host: '127.0.0.1' })
  const addr = t.app.server.address()
  if (!addr || typeof addr === 'string')
    throw new Error('not listening')
  return { ...t, base: `http://127.0.0.1:${addr.port}` }
}

/** Creates members (in parallel) and logs each in through the real route. */
export async function members(app: TestApp['app'], names: string[]): Promise<TestSession[]> {
  return Promise.all(names.map(async (username) => {
    const { password } = await createUser(app, { username })
    return loginAs(app, username, password)
  }))
}

/**
 * Many members quickly, for load tests: one real password hash (the first member's) copied to the
 * others, and sessions opened through the real session service with real signed tokens (what the
 * login route does after checking the password). Authentication itself stays fully real.
 */
export async function manyMembers(app: TestApp['app'], names: string[]): Promise<TestSession[]> {
  const [firstName, ...rest] = names
  const { user: first } = await createUser(app, { username: firstName })
  const { passwordHash } = await app.db.user.findUniqueOrThrow({ where: { id: first.id }, select: { passwordHash: true } })
  const users = [first as { id: number, username: string }]
  for (const username of rest)
    users.push(await app.db.user.create({ data: { username, passwordHash }, select: { id: true, username: true } }))
  return Promise.all(users.map(async (u) => {
    const session = await app.sessions.start(u.id, { ip: '127.0.0.1', userAgent: 'test' })
    const token = app.jwt.sign({
      sub: String(u.id),
      sid: session.id,
      iat: Math.floor(session.createdAt.getTime() / 1000),
      exp: Math.floor(session.expiresAt.getTime() / 1000),
    })
    return { cookie: `cws_session=${token}`, token, user: { id: u.id, username: u.username } as TestSession['user'] }
  }))
}

export type Ev = ChatStreamEvent

export class ChatStream {
  readonly events: Ev[] = []
  /** The `id:` of each event, in the same order. */
  readonly ids: string[] = []
  comments = 0
  ended = false
  /** Resolves when the server ended the stream (or the client aborted). */
  readonly done: Promise<void>
  private waiters: Array<() => void> = []

  constructor(readonly status: number, private readonly body: ReadableStream<Uint8Array> | null, private readonly ac: AbortController) {
    this.done = this.read()
  }

  private async read(): Promise<void> {
    if (!this.body)
      return
    const parser = createParser({
      onEvent: (e) => {
        this.events.push({ event: e.event as Ev['event'], data: JSON.parse(e.data) } as Ev)
        this.ids.push(e.id ?? '')
        this.notify()
      },
      onComment: () => {
        this.comments++
        this.notify()
      },
    })
    const decoder = new TextDecoder()
    try {
      const reader = this.body.getReader()
      while (true) {
        const { value, done } = await reader.read()
        if (done)
          break
        parser.feed(decoder.decode(value, { stream: true }))
      }
    }
    catch {
      // aborted by us
    }
    this.ended = true
    this.notify()
  }

  private notify(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** Waits until an event matches (or the stream ends: then throws with what was received). */
  async waitFor(pred: string | ((e: Ev) => boolean)): Promise<Ev> {
    const match = typeof pred === 'string' ? (e: Ev) => e.event === pred : pred
    while (true) {
      const found = this.events.find(match)
      if (found)
        return found
      if (this.ended)
        throw new Error(`stream ended without the awaited event; got ${JSON.stringify(this.events.map(e => e.event))}`)
      await new Promise<void>(r => this.waiters.push(r))
    }
  }

  /** Waits for the end of the stream; returns the last event (done or error). */
  async last(): Promise<Ev> {
    await this.done
    return this.events.at(-1)!
  }

  get names(): string[] {
    return this.events.map(e => e.event)
  }

  get text(): string {
    return this.events.map(e => (e.event === 'delta' ? e.data.text : '')).join('')
  }

  get accepted() {
    const e = this.events.find(e => e.event === 'accepted')
    if (e?.event !== 'accepted')
      throw new Error('no accepted event')
    return e.data
  }

  /** The id of the newest event received (what a browser sends back as Last-Event-ID). */
  get lastId(): string | undefined {
    return this.ids.at(-1)
  }

  /** Disconnects like a closed browser tab. */
  disconnect(): void {
    this.ac.abort()
  }
}

export interface ChatAnswer {
  status: number
  /** The JSON error body when the ask was not admitted. */
  json?: any
  stream?: ChatStream
}

export async function chat(base: string, session: TestSession, body: Partial<ChatBody>): Promise<ChatAnswer> {
  const ac = new AbortController()
  const res = await fetch(`${base}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'authorization': `Bearer ${session.token}` },
    body: JSON.stringify(body),
    signal: ac.signal,
  })
  if (res.status !== 200 || !res.headers.get('content-type')?.startsWith('text/event-stream'))
    return { status: res.status, json: await res.json() }
  return { status: res.status, stream: new ChatStream(res.status, res.body, ac) }
}

/** `chat` that must be admitted. */
export async function open(base: string, session: TestSession, body: Partial<ChatBody>): Promise<ChatStream> {
  const a = await chat(base, session, body)
  if (!a.stream)
    throw new Error(`ask refused: ${a.status} ${JSON.stringify(a.json)}`)
  return a.stream
}

/** `GET /api/chat/:requestId/events`, optionally resuming after `lastEventId`. */
export async function attach(base: string, session: TestSession, requestId: string, lastEventId?: string): Promise<ChatAnswer> {
  const ac = new AbortController()
  const res = await fetch(`${base}/api/chat/${requestId}/events`, {
    headers: { authorization: `Bearer ${session.token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: ac.signal,
  })
  if (res.status !== 200 || !res.headers.get('content-type')?.startsWith('text/event-stream'))
    return { status: res.status, json: await res.json() }
  return { status: res.status, stream: new ChatStream(res.status, res.body, ac) }
}

export async function api(base: string, session: TestSession, method: string, path: string, body?: unknown): Promise<{ status: number, json: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), authorization: `Bearer ${session.token}` },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  return { status: res.status, json: text ? JSON.parse(text) : undefined }
}

/** Polls `pred` until true (no fixed sleeps in assertions; gives up after `ms`). */
export async function eventually(pred: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await pred())) {
    if (Date.now() > until)
      throw new Error('condition not met in time')
    await new Promise(r => setTimeout(r, 10))
  }
}
