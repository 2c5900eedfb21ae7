/**
 * Re-attach benchmark (issue 13; run by hand after `pnpm build`: `pnpm bench:reattach`, or
 * `cd backend && npx tsx ../bench/reattach.ts`; not part of the test suite). Starts the fake upstream
 * and our built server (`backend/dist/server.js`, as `pnpm start` runs it) as separate processes,
 * like bench/stream.ts, and measures in one run:
 *
 *   1. Re-attach, first byte: `GET /api/chat/:requestId/events` with `Last-Event-ID` (the id of the
 *      last frame the client saw before it went away) for asks that are still streaming, detached
 *      mid-answer: one at a time (BENCH_REATTACH, 200) and BENCH_BURST (50) at once, BENCH_BURSTS (4)
 *      times; each side of the comparison — the first byte of a plain request to the fake upstream
 *      directly — measured in the same run, interleaved. Every request, ours and the direct one, opens
 *      a fresh connection (a re-attach follows a lost connection). Each re-attach is checked: it must
 *      resume exactly where its cursor says (the text is compared with the fake's deterministic answer).
 *      Also: a re-attach with an up-to-date cursor (nothing missed), one from before the first text
 *      (the id of `started`), and the snapshot (no `Last-Event-ID`) of an ask with
 *      BENCH_SNAPSHOT_CHARS (100 000) characters of text so far.
 *   2. Memory per running detached ask, on a fresh server process: BENCH_MEMORY (500,1000) asks
 *      against slow answers (100 characters every 100 ms, then the upstream stalls with its connection
 *      open, so each ask holds exactly BENCH_MEMORY_CHARS (3000) characters), all detached; the
 *      server's RSS (/proc) and heap (through the inspector: `--inspect=127.0.0.1:0`, a forced GC,
 *      `process.memoryUsage()`) before and after, per ask; next to it the bytes the ask keeps as replay
 *      (text as UTF-16 + the kept events as JSON, the way the channel keeps them). It checks that
 *      the server no longer holds the asks' connections, and afterwards that every ask is still
 *      running with exactly that text.
 *
 * Prints a table and one JSON line (`{"bench":"reattach",…}`). Env as above, plus BENCH_SERVER_FLAGS
 * (node flags for the servers), BENCH_CPU_PROF (a directory: profile the phase-1 server and print the
 * re-attach windows for bench/cpu-profile.ts), BENCH_HEAP_PROFILE (a file: the sampling heap profile of
 * the memory phase — what the asks keep alive, by allocation site; DevTools opens it — and a summary
 * per ask). The detach grace is the default (300 s); a run takes about a minute.
 */
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import process from 'node:process'
import { StringDecoder } from 'node:string_decoder'
import { generatedAnswer } from '../backend/test/fake-upstream/knobs.js'
import { backendDir, cpuMs, dispatcher, freePort, json, pct, rssKb, undici, waitUp } from './support.js'

const { Client, WebSocket } = undici

const API_KEY = 'sk-fake-0123456789abcdef'
const UPSTREAMS = 20 // × 64 slots: room for 1000 asks running at once
const MEMBERS = 12 // × 100 in flight
const REATTACH = Number(process.env.BENCH_REATTACH ?? 200)
const BURST = Number(process.env.BENCH_BURST ?? 50)
const BURSTS = Number(process.env.BENCH_BURSTS ?? 4)
const SNAPSHOT_CHARS = Number(process.env.BENCH_SNAPSHOT_CHARS ?? 100_000)
const SNAPSHOTS = Number(process.env.BENCH_SNAPSHOTS ?? 100)
const MEMORY = (process.env.BENCH_MEMORY ?? '500,1000').split(',').map(Number).filter(n => n > 0)
const MEMORY_CHARS = Math.max(100, Math.round(Number(process.env.BENCH_MEMORY_CHARS ?? 3000) / 100) * 100)

/** Keep-alive connections for the setup calls (login, members, limits). */

const children: ChildProcess[] = []
/** Runs a script of the backend (TypeScript through tsx); `onLine` sees its stdout and stderr lines. */
function start(args: string[], env: Record<string, string>, nodeFlags: string[], onLine: (line: string, stream: 'out' | 'err') => void): ChildProcess {
  const loader = args[0]!.endsWith('.ts') ? ['--import', 'tsx'] : []
  const child = spawn(process.execPath, [...nodeFlags, ...loader, ...args], { cwd: backendDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  for (const [name, s] of [['out', child.stdout!], ['err', child.stderr!]] as const) {
    let rest = ''
    s.setEncoding('utf8')
    s.on('data', (d: string) => {
      const lines = (rest + d).split('\n')
      rest = lines.pop()!
      for (const l of lines) onLine(l, name)
    })
  }
  return child
}

function waitFor<T>(what: string, get: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now()
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const v = get()
      if (v !== undefined)
        return resolve(v)
      if (Date.now() - t0 > timeoutMs)
        return reject(new Error(`timed out waiting for ${what}`))
      setTimeout(tick, 50)
    }
    tick()
  })
}

async function login(base: string, username: string, password: string): Promise<string> {
  const res = await json('POST', `${base}/api/auth/login`, { username, password })
  const cookie = [res.headers['set-cookie']].flat().map(String).find(c => c.startsWith('cws_session='))
  if (res.status !== 200 || !cookie)
    throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`)
  return cookie.slice('cws_session='.length).split(';')[0]!
}

interface Frame { id?: string, event: string, data: string }

/** Splits what arrived into complete SSE frames (comments such as `: ping` are dropped). */
class FrameReader {
  private rest = ''
  private readonly decoder = new StringDecoder('utf8')
  push(chunk: Buffer): Frame[] {
    const parts = (this.rest + this.decoder.write(chunk)).split('\n\n')
    this.rest = parts.pop()!
    const out: Frame[] = []
    for (const part of parts) {
      const f: Frame = { event: 'message', data: '' }
      let any = false
      for (const line of part.split('\n')) {
        const at = line.indexOf(': ')
        const [k, v] = at > 0 ? [line.slice(0, at), line.slice(at + 2)] : [line, '']
        if (k === 'id')
          f.id = v
        else if (k === 'event')
          f.event = v
        else if (k === 'data')
          f.data = v
        else continue
        any = true
      }
      if (any)
        out.push(f)
    }
    return out
  }
}

interface Read {
  status: number
  /** From sending the request to the first byte of the body (the headers leave with the first events). */
  firstByteMs: number
  /** From sending the request to the frame `until` accepted. */
  doneMs: number
  frames: Frame[]
  bodyBytes: number
}

/**
 * One request on a fresh connection; reads frames until `until` accepts one (then disconnects) or
 * the body ends. A plain request to the fake ends by itself (`until` never accepts).
 */
async function timed(origin: string, path: string, opts: { method: 'GET' | 'POST', headers: Record<string, string>, body?: string }, until: (f: Frame) => boolean, timeoutMs = 30_000): Promise<Read> {
  const client = new Client(origin, { pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
  const t0 = performance.now()
  let firstByteMs = -1
  let doneMs = -1
  let bodyBytes = 0
  const frames: Frame[] = []
  try {
    const res = await client.request({ path, ...opts })
    const reader = new FrameReader()
    for await (const chunk of res.body) {
      if (firstByteMs < 0)
        firstByteMs = performance.now() - t0
      bodyBytes += (chunk as Buffer).length
      if (res.statusCode !== 200)
        continue
      for (const f of reader.push(chunk as Buffer)) {
        frames.push(f)
        if (doneMs < 0 && until(f))
          doneMs = performance.now() - t0
      }
      if (doneMs >= 0)
        break
    }
    if (doneMs < 0)
      doneMs = performance.now() - t0
    return { status: res.statusCode, firstByteMs, doneMs, frames, bodyBytes }
  }
  finally {
    client.destroy().catch(() => {})
  }
}

const DIRECT_PROMPT = '[[fake: answer=Hello from the fake upstream., chunks=2]] a plain request'
/** The baseline: the first byte of a plain streamed request to the fake upstream (headers and `: PROCESSING`). */
async function direct(fake: string): Promise<Read> {
  const r = await timed(fake, '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'authorization': `Bearer ${API_KEY}` },
    body: JSON.stringify({ model: 'gpt', stream: true, messages: [{ role: 'user', content: DIRECT_PROMPT }] }),
  }, () => false)
  if (r.status !== 200 || r.firstByteMs < 0)
    throw new Error(`direct: ${r.status}`)
  return r
}

/**
 * `GET /api/chat/:requestId/events`, until `expectChars` characters of text came (null: until the
 * first `delta`, the catch-up of a resume) or `done`/`error`.
 */
function reattach(base: string, token: string, requestId: string, lastEventId: string | null, expectChars: number | null = null, timeoutMs?: number): Promise<Read> {
  let chars = 0
  return timed(base, `/api/chat/${requestId}/events`, {
    method: 'GET',
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...(lastEventId !== null ? { 'last-event-id': lastEventId } : {}) },
  }, (f) => {
    if (f.event === 'done' || f.event === 'error')
      return true
    if (f.event !== 'delta')
      return false
    chars += (JSON.parse(f.data).text as string).length
    return expectChars === null || chars >= expectChars
  }, timeoutMs)
}

interface Detached { requestId: string, token: string, cursor: string, answer: string }

/**
 * Starts an ask through `POST /api/chat`, reads it until its first text, then closes the stream (the
 * ask goes on, detached). `cursor` is the id of the last frame seen. Each ask has its own connection,
 * closed by destroying its client: destroying only the body of an undici `request()` on a shared
 * Agent left about half of these connections open here (the ask then never detaches).
 */
async function askAndDetach(base: string, token: string, model: string, knobs: string, tag: string, answerChars: number): Promise<Detached> {
  const client = new Client(base, { pipelining: 1, headersTimeout: 120_000, bodyTimeout: 300_000 })
  try {
    const res = await client.request({
      path: '/api/chat',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'authorization': `Bearer ${token}` },
      body: JSON.stringify({ model, content: `[[fake: ${knobs}]] ${tag}` }),
    })
    if (res.statusCode !== 200)
      throw new Error(`ask ${tag}: ${res.statusCode} ${(await res.body.text()).slice(0, 200)}`)
    const reader = new FrameReader()
    let requestId = ''
    let cursor = ''
    for await (const chunk of res.body) {
      for (const f of reader.push(chunk as Buffer)) {
        if (f.event === 'accepted')
          requestId = JSON.parse(f.data).requestId
        if (f.event === 'error' || f.event === 'done')
          throw new Error(`ask ${tag} ended: ${f.event} ${f.data}`)
        if (f.id)
          cursor = f.id
        if (f.event === 'delta')
          return { requestId, token, cursor, answer: generatedAnswer(answerChars) }
      }
    }
    throw new Error(`ask ${tag}: the stream ended before any text`)
  }
  finally {
    await client.destroy().catch(() => {})
  }
}

/** Connections to `port` the server holds open (ESTABLISHED in /proc/net/tcp, its side). */
function openConnections(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).filter((l) => {
    const f = l.trim().split(/\s+/)
    return f[1]?.endsWith(hex) && f[3] === '01'
  }).length
}

/** Checks that a re-attach from `cursor` resumed exactly there; returns the text it brought. */
function checkResume(r: Read, a: Detached, cursor: string | null): string {
  if (r.status !== 200)
    throw new Error(`re-attach ${a.requestId}: ${r.status}`)
  const deltas = r.frames.filter(f => f.event === 'delta')
  if (!deltas.length)
    throw new Error(`re-attach ${a.requestId}: no text (${r.frames.map(f => f.event).join(', ')})`)
  const text = deltas.map(f => JSON.parse(f.data).text as string).join('')
  const from = cursor === null ? 0 : Number(cursor.split('.')[1])
  if (text !== a.answer.slice(from, from + text.length))
    throw new Error(`re-attach ${a.requestId} from ${cursor}: the text does not continue the answer`)
  if (cursor === null && r.frames[0]?.event !== 'accepted')
    throw new Error(`snapshot ${a.requestId}: does not begin with accepted`)
  return text
}

/** A DevTools protocol session on the server's inspector (for a forced GC and `process.memoryUsage()`). */
async function inspector(url: string): Promise<{ call: (method: string, params?: object) => Promise<any>, close: () => void }> {
  const ws = new WebSocket(url)
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true })
    ws.addEventListener('error', reject, { once: true })
  })
  let seq = 0
  const pending = new Map<number, (msg: any) => void>()
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(String(ev.data))
    if (msg.id !== undefined) {
      pending.get(msg.id)?.(msg)
      pending.delete(msg.id)
    }
  })
  const call = (method: string, params: object = {}): Promise<any> => new Promise((resolve, reject) => {
    const id = ++seq
    pending.set(id, msg => (msg.error ? reject(new Error(`${method}: ${msg.error.message}`)) : resolve(msg.result)))
    ws.send(JSON.stringify({ id, method, params }))
  })
  return { call, close: () => ws.close() }
}

const r1 = (v: number): number => Math.round(v * 10) / 10
const fmt = (v: number): string => `${v.toFixed(1)} ms`
const signed = (v: number): string => `${v < 0 ? '-' : '+'}${Math.abs(v).toFixed(1)}`

interface HeapNode { callFrame: { functionName: string, url: string, lineNumber: number }, selfSize: number, children: HeapNode[] }

/**
 * What a sampling heap profile (taken after a forced GC: live objects only) holds, per ask: by the
 * allocating function, and by the nearest function of our own code on the allocation's stack.
 */
function summarizeHeap(profile: { head: HeapNode }, asks: number): void {
  const where = (cf: HeapNode['callFrame']): string => {
    const file = cf.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, '').replace(/^.*\/backend\/dist\//, 'dist/')
    return `${cf.functionName || '(anonymous)'} ${file ? `${file}:${cf.lineNumber + 1}` : ''}`.trim()
  }
  const bySite = new Map<string, number>()
  const byOurs = new Map<string, number>()
  let total = 0
  const walk = (n: HeapNode, stack: HeapNode['callFrame'][]): void => {
    const s = [...stack, n.callFrame]
    if (n.selfSize) {
      total += n.selfSize
      const site = where(n.callFrame)
      bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize)
      const ours = [...s].reverse().find(cf => cf.url.includes('/backend/dist/'))
      const key = ours ? where(ours) : '(no frame of ours)'
      byOurs.set(key, (byOurs.get(key) ?? 0) + n.selfSize)
    }
    for (const c of n.children) walk(c, s)
  }
  walk(profile.head, [])
  const top = (m: Map<string, number>): string[][] => [...m].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => [k.slice(0, 110), `${(v / asks / 1024).toFixed(1)} KB`])
  console.log(`\nheap profile: ${(total / asks / 1024).toFixed(1)} KB alive per ask (sampled)`)
  table([['allocated by', 'per ask'], ...top(bySite)])
  table([['nearest frame of ours', 'per ask'], ...top(byOurs)])
}

/** Prints rows as aligned columns (the first row is the header). */
function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map(r => r[c]!.length)))
  for (const [i, r] of rows.entries()) {
    console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   '))
    if (i === 0)
      console.log(widths.map(w => '-'.repeat(w)).join('   '))
  }
}

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

interface Server { child: ChildProcess, pid: number, base: string, tokens: string[], inspectorUrl: () => string | undefined }

/**
 * Our built server (`dist/server.js`, as `pnpm start` and the container run it) in a fresh data dir,
 * with MEMBERS members logged in through the real API. `inspect`: with the inspector on 127.0.0.1:0.
 */
async function startServer(fake: string, dir: string, inspect: boolean): Promise<Server> {
  if (!existsSync(path.join(backendDir, 'dist/server.js')))
    throw new Error('backend/dist/server.js is missing: run `pnpm build` first')
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const upstreams = Array.from({ length: UPSTREAMS }, (_, i) => [
    `  - id: u${i}`,
    `    type: openai`,
    `    base_url: ${fake}/v1`,
    `    api_key: ${API_KEY}`,
    `    concurrency: 64`,
    // The memory phase holds its asks on a stalled upstream for a minute or so.
    `    idle_timeout_seconds: 600`,
    `    models: [{ key: m${i}, name: M${i}, slug: gpt }]`,
  ].join('\n')).join('\n')
  writeFileSync(path.join(dir, 'config.yaml'), [
    `server: { host: 127.0.0.1, port: ${port} }`,
    `log: { level: info, file: true }`, // the production defaults
    `admin: { username: admin, password: bench-admin-pass }`,
    `chat: { queue_max_depth: 10000 }`, // detached_grace_seconds: the default, 300
    `upstreams:`,
    upstreams,
  ].join('\n'))
  let inspectorUrl: string | undefined
  const prof = process.env.BENCH_CPU_PROF && !inspect ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []
  const flags = [...(inspect ? ['--inspect=127.0.0.1:0'] : []), ...prof, ...(process.env.BENCH_SERVER_FLAGS?.split(/\s+/).filter(Boolean) ?? [])]
  const child = start(['dist/server.js'], { CWS_CONFIG: path.join(dir, 'config.yaml'), CWS_DATA_DIR: path.join(dir, 'data'), NODE_ENV: 'production' }, flags, (line, s) => {
    const m = /^Debugger listening on (ws:\/\/\S+)/.exec(line)
    if (m)
      inspectorUrl = m[1]
    else if (s === 'err' && !/^(?:For help, see: |Debugger attached\.|Debugger ending on |Waiting for the debugger)/.test(line))
      console.error(`[server] ${line}`)
  })
  await waitUp(`${base}/api/health`)

  const admin = await login(base, 'admin', 'bench-admin-pass')
  const tokens: string[] = []
  for (let i = 0; i < MEMBERS; i++) {
    const created = await json('POST', `${base}/api/admin/users`, { username: `bench${i}`, password: 'bench-member-pass' }, admin)
    if (created.status >= 300)
      throw new Error(`create member: ${created.status} ${JSON.stringify(created.body)}`)
    const id = created.body.id ?? created.body.user?.id
    const limits = await json('PATCH', `${base}/api/admin/users/${id}/limits`, { maxInFlight: 100 }, admin)
    if (limits.status >= 300)
      throw new Error(`limits: ${limits.status} ${JSON.stringify(limits.body)}`)
    tokens.push(await login(base, `bench${i}`, 'bench-member-pass'))
  }
  return { child, pid: child.pid!, base, tokens, inspectorUrl: () => inspectorUrl }
}

/** SIGTERM (the server stores every running ask as interrupted), at most 10 s, then SIGKILL. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null)
    return
  const exited = new Promise<void>(r => child.once('exit', () => r()))
  child.kill('SIGTERM')
  await Promise.race([exited, sleep(10_000)])
  if (child.exitCode === null && child.signalCode === null)
    child.kill('SIGKILL')
}

/** The asks really detached: the server holds (almost) no connection from us any more. */
function detachedCheck(srv: Server, asks: number): number {
  const open = openConnections(Number(new URL(srv.base).port))
  if (open > 5)
    throw new Error(`${asks} asks should be detached, but the server still holds ${open} connections from the bench`)
  return open
}

/** Monotonic µs, the clock of `--cpu-prof` timestamps (for bench/cpu-profile.ts windows). */
const monoUs = (): bigint => process.hrtime.bigint() / 1000n

async function main(): Promise<void> {
  const t00 = performance.now()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cws-bench-reattach-'))
  let fakeUrl: string | undefined
  try {
    start(['test/fake-upstream/server.ts', '--port', '0', '--api-key', API_KEY], {}, [], (line, s) => {
      const m = /^fake upstream on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
      if (m)
        fakeUrl = m[1]
      else if (s === 'err')
        console.error(`[fake] ${line}`)
    })
    const FAKE = await waitFor('the fake upstream', () => fakeUrl)
    const model = (i: number): string => `m${i % UPSTREAMS}`

    // Phase 1 runs on one server process, phase 2 on a fresh one: RSS never shrinks back after
    // phase 1's bursts, so only a fresh process gives a baseline the asks can be measured against.
    mkdirSync(path.join(dir, 'a'))
    const srvA = await startServer(FAKE, path.join(dir, 'a'), false)
    const BASE = srvA.base
    const pid = srvA.pid
    const token = (i: number): string => srvA.tokens[i % srvA.tokens.length]!
    const windows: string[] = []

    // ---- 1. Re-attach -------------------------------------------------------------------------
    // BURST asks streaming 20 characters every 100 ms (for minutes), each detached after its first text.
    const LIVE_CHARS = 100_000
    const live = await Promise.all(Array.from({ length: BURST }, (_, i) =>
      askAndDetach(BASE, token(i), model(i), `answerChars=${LIVE_CHARS}, chunks=${LIVE_CHARS / 20}, gapMs=100`, `live ${i}`, LIVE_CHARS)))
    await sleep(2000) // come back a little later: something was missed
    const liveOpen = detachedCheck(srvA, live.length)

    // Warm-up (JIT, SQLite pages), unmeasured.
    for (let i = 0; i < 40; i++) {
      await direct(FAKE)
      const a = live[i % live.length]!
      checkResume(await reattach(BASE, a.token, a.requestId, a.cursor), a, a.cursor)
    }

    // One at a time, interleaved with the direct request.
    const seqD: number[] = []
    const seqO: number[] = []
    const seqDone: number[] = []
    const missed: number[] = []
    const cpu0 = cpuMs(pid)
    const w0 = performance.now()
    const m0 = monoUs()
    for (let i = 0; i < REATTACH; i++) {
      seqD.push((await direct(FAKE)).firstByteMs)
      const a = live[i % live.length]!
      const r = await reattach(BASE, a.token, a.requestId, a.cursor)
      missed.push(checkResume(r, a, a.cursor).length)
      seqO.push(r.firstByteMs)
      seqDone.push(r.doneMs)
    }
    const seqWindow = performance.now() - w0
    windows.push(`${m0}-${monoUs()}`)
    const seqCpu = cpuMs(pid) - cpu0
    // The same time with no re-attaches (the live asks still stream): the server's background CPU.
    const cpu1 = cpuMs(pid)
    await sleep(seqWindow)
    const idleCpu = cpuMs(pid) - cpu1
    const cpuPerReattach = Math.max(0, seqCpu - idleCpu) / REATTACH

    // BURST at once (each on its own ask), BURSTS times; the direct side separately, just before.
    const burD: number[] = []
    const burO: number[] = []
    for (let b = 0; b < BURSTS; b++) {
      await sleep(500)
      burD.push(...(await Promise.all(live.map(() => direct(FAKE)))).map(r => r.firstByteMs))
      const mb = monoUs()
      const rs = await Promise.all(live.map(a => reattach(BASE, a.token, a.requestId, a.cursor)))
      windows.push(`${mb}-${monoUs()}`)
      rs.forEach((r, i) => checkResume(r, live[i]!, live[i]!.cursor))
      burO.push(...rs.map(r => r.firstByteMs))
    }

    // Nothing missed: the cursor is the newest one. The response's headers leave with its first
    // frame, so the first byte waits for the ask's next text (here: within 100 ms).
    const upToDate: number[] = []
    for (let i = 0; i < 20; i++) {
      const a = live[i % live.length]!
      const r = await reattach(BASE, a.token, a.requestId, a.cursor)
      checkResume(r, a, a.cursor)
      const newest = r.frames.at(-1)!.id!
      const r2 = await reattach(BASE, a.token, a.requestId, newest, null, 5000)
      checkResume(r2, a, newest)
      upToDate.push(r2.firstByteMs)
    }

    // From before the first text (the id of `started`: the client went away before any text came).
    // New conversations get their `title` right after the first text, so this replay is text, title,
    // text; time until all the missed text is there.
    const beforeText: number[] = []
    for (let i = 0; i < 20; i++) {
      const a = live[i % live.length]!
      const r = await reattach(BASE, a.token, a.requestId, '2.0', Number(a.cursor.split('.')[1]) + 1)
      checkResume(r, a, '2.0')
      beforeText.push(r.doneMs)
    }

    // Snapshot (no Last-Event-ID) of an ask with SNAPSHOT_CHARS of text so far: 100-character
    // chunks as fast as the fake sends them, then it stalls (the ask keeps running).
    const snapChunks = SNAPSHOT_CHARS / 100
    const snap = await askAndDetach(BASE, token(0), model(0), `answerChars=${SNAPSHOT_CHARS * 2}, chunks=${snapChunks * 2}, gapMs=0, stallAfter=${snapChunks}`, 'snapshot', SNAPSHOT_CHARS * 2)
    // Waits (attached) until the text is all there.
    checkResume(await reattach(BASE, snap.token, snap.requestId, null, SNAPSHOT_CHARS, 60_000), snap, null)
    const snapD: number[] = []
    const snapFirst: number[] = []
    const snapDone: number[] = []
    let snapBytes = 0
    let snapShape = ''
    for (let i = 0; i < SNAPSHOTS; i++) {
      snapD.push((await direct(FAKE)).firstByteMs)
      const r = await reattach(BASE, snap.token, snap.requestId, null, SNAPSHOT_CHARS)
      if (checkResume(r, snap, null).length !== SNAPSHOT_CHARS)
        throw new Error('snapshot: wrong length')
      snapShape = r.frames.map(f => f.event).join(', ')
      snapFirst.push(r.firstByteMs)
      snapDone.push(r.doneMs)
      snapBytes = r.bodyBytes
    }

    await stop(srvA.child)
    if (process.env.BENCH_CPU_PROF)
      console.error(`re-attach windows (µs, one at a time then each burst), for bench/cpu-profile.ts: ${windows.join(' ')}`)

    // ---- 2. Memory per running detached ask ---------------------------------------------------
    mkdirSync(path.join(dir, 'b'))
    const srvB = await startServer(FAKE, path.join(dir, 'b'), true)
    const tokenB = (i: number): string => srvB.tokens[i % srvB.tokens.length]!
    const memChunks = MEMORY_CHARS / 100
    const memKnobs = `answerChars=${MEMORY_CHARS * 4}, chunks=${memChunks * 4}, gapMs=100, stallAfter=${memChunks}`
    // Warm-up: a few asks of the same kind that run to their end (JIT, pools, SQLite pages).
    await Promise.all(Array.from({ length: 20 }, (_, i) =>
      askAndDetach(srvB.base, tokenB(i), model(i), `answerChars=${MEMORY_CHARS}, chunks=${memChunks}, gapMs=10`, `warm-up ${i}`, MEMORY_CHARS)))
    await sleep(memChunks * 10 + 1000)
    const insp = await inspector(await waitFor('the inspector', srvB.inspectorUrl, 5000))
    const measure = async (): Promise<{ rssKb: number, heapUsed: number, external: number, arrayBuffers: number }> => {
      await sleep(1500)
      for (let i = 0; i < 3; i++) await insp.call('HeapProfiler.collectGarbage')
      await sleep(300)
      const { result } = await insp.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })
      const mu = JSON.parse(result.value)
      return { rssKb: rssKb(srvB.pid), heapUsed: mu.heapUsed, external: mu.external, arrayBuffers: mu.arrayBuffers }
    }
    const base0 = await measure()
    const heapProfile = process.env.BENCH_HEAP_PROFILE
    if (heapProfile)
      await insp.call('HeapProfiler.startSampling', { samplingInterval: 1024 })
    const memAsks: Detached[] = []
    const memRows: Array<{ n: number, rssKb: number, heapUsed: number, external: number, arrayBuffers: number, startS: number, open: number }> = []
    for (const n of MEMORY) {
      const t0 = performance.now()
      const more = await Promise.all(Array.from({ length: n - memAsks.length }, (_, j) => {
        const i = memAsks.length + j
        return askAndDetach(srvB.base, tokenB(i), model(i), memKnobs, `memory ${i}`, MEMORY_CHARS * 4)
      }))
      memAsks.push(...more)
      const startS = (performance.now() - t0) / 1000
      await sleep(memChunks * 100 + 2000) // every ask has its text and the upstream has stalled
      memRows.push({ n, ...await measure(), startS, open: detachedCheck(srvB, n) })
    }
    if (heapProfile) {
      const { profile } = await insp.call('HeapProfiler.getSamplingProfile')
      await insp.call('HeapProfiler.stopSampling')
      writeFileSync(heapProfile, JSON.stringify(profile))
      summarizeHeap(profile, memAsks.length)
    }
    insp.close()

    // Every ask still running, with exactly MEMORY_CHARS of text; what it keeps as replay.
    let keptEventBytes = 0
    for (let i = 0; i < memAsks.length; i += 50) {
      const rs = await Promise.all(memAsks.slice(i, i + 50).map(a => reattach(srvB.base, a.token, a.requestId, null, MEMORY_CHARS, 10_000)))
      rs.forEach((r, j) => {
        const a = memAsks[i + j]!
        if (checkResume(r, a, null).length !== MEMORY_CHARS || r.frames.some(f => f.event === 'done' || f.event === 'error'))
          throw new Error(`memory ask ${a.requestId}: not running with ${MEMORY_CHARS} characters`)
        if (i + j === 0) // the kept events as the channel keeps them (not text, not queued)
          keptEventBytes = r.frames.filter(f => f.event !== 'delta' && f.event !== 'queued').reduce((s, f) => s + f.data.length * 2 + 48, 0)
      })
    }
    const replayBytes = MEMORY_CHARS * 2 + keptEventBytes

    // ---- Report -------------------------------------------------------------------------------
    const row = (label: string, d: number[], o: number[]): Record<string, unknown> => ({
      label,
      n: o.length,
      direct: { p50: r1(pct(d, 50)), p95: r1(pct(d, 95)), p99: r1(pct(d, 99)) },
      ours: { p50: r1(pct(o, 50)), p95: r1(pct(o, 95)), p99: r1(pct(o, 99)) },
      extraMs: { p50: r1(pct(o, 50) - pct(d, 50)), p95: r1(pct(o, 95) - pct(d, 95)), p99: r1(pct(o, 99) - pct(d, 99)) },
      ratio: { p50: r1(pct(o, 50) / pct(d, 50)), p99: r1(pct(o, 99) / pct(d, 99)) },
    })
    const rows = [
      row('re-attach, Last-Event-ID, one at a time', seqD, seqO),
      row(`re-attach, Last-Event-ID, ${BURST} at once (${BURSTS} bursts)`, burD, burO),
      row(`snapshot, no Last-Event-ID, ${SNAPSHOT_CHARS} chars so far`, snapD, snapFirst),
    ]
    const trio = (x: { p50: number, p95: number, p99: number }): string => `${x.p50.toFixed(1)} / ${x.p95.toFixed(1)} / ${x.p99.toFixed(1)}`
    console.log()
    table([
      ['first byte, ms', 'direct p50 / p95 / p99', 'ours p50 / p95 / p99', 'extra p50 / p99', 'ratio p50'],
      ...rows.map((r: any) => [r.label, trio(r.direct), trio(r.ours), `${signed(r.extraMs.p50)} / ${signed(r.extraMs.p99)}`, `${r.ratio.p50.toFixed(1)}x`]),
    ])
    console.log(`the ${live.length} streaming asks were detached (the server held ${liveOpen} connections from the bench after it)`)
    console.log(`re-attach, one at a time: caught up (the missed ${Math.min(...missed)}–${Math.max(...missed)} characters received) p50 ${fmt(pct(seqDone, 50))}, p99 ${fmt(pct(seqDone, 99))}; server CPU per re-attach ${cpuPerReattach.toFixed(2)} ms`)
    console.log(`re-attach with an up-to-date cursor (nothing missed): first byte p50 ${fmt(pct(upToDate, 50))}, max ${fmt(Math.max(...upToDate))} (the headers wait for the ask's next text; it comes every 100 ms here)`)
    console.log(`re-attach from before the first text (Last-Event-ID of \`started\`; text, title, text): caught up p50 ${fmt(pct(beforeText, 50))}, max ${fmt(Math.max(...beforeText))}`)
    console.log(`snapshot of ${SNAPSHOT_CHARS} chars (${(snapBytes / 1024).toFixed(0)} KB on the wire): complete p50 ${fmt(pct(snapDone, 50))}, p99 ${fmt(pct(snapDone, 99))}; frames: ${snapShape}`)
    console.log(`\nmemory, running detached asks holding ${MEMORY_CHARS} chars each (replay kept per ask: ${MEMORY_CHARS * 2} B text + ${keptEventBytes} B events = ${replayBytes} B)`)
    // Per ask from the start, and marginal (from the previous row): RSS after a start is noisy (the
    // allocator gives start-up memory back late), the marginal figure between two loads much less.
    const mem = memRows.map((m, i) => {
      const prev = i > 0 ? memRows[i - 1]! : { n: 0, ...base0 }
      return {
        n: m.n,
        rssMB: r1(m.rssKb / 1024),
        heapMB: r1(m.heapUsed / 2 ** 20),
        perAsk: {
          rssKB: r1((m.rssKb - base0.rssKb) / m.n),
          heapKB: r1((m.heapUsed - base0.heapUsed) / m.n / 1024),
          externalKB: r1(((m.external - base0.external) + (m.arrayBuffers - base0.arrayBuffers)) / m.n / 1024),
        },
        marginal: { rssKB: r1((m.rssKb - prev.rssKb) / (m.n - prev.n)), heapKB: r1((m.heapUsed - prev.heapUsed) / (m.n - prev.n) / 1024) },
        startS: r1(m.startS),
        openConnections: m.open,
      }
    })
    table([
      ['detached asks', 'rss', 'heap used', 'rss / ask', 'heap / ask', 'marginal rss / heap per ask', 'external / ask', 'started and detached in'],
      ['0', `${(base0.rssKb / 1024).toFixed(0)} MB`, `${(base0.heapUsed / 2 ** 20).toFixed(1)} MB`, '', '', '', '', ''],
      ...mem.map(m => [String(m.n), `${m.rssMB.toFixed(0)} MB`, `${m.heapMB.toFixed(1)} MB`, `${m.perAsk.rssKB.toFixed(1)} KB`, `${m.perAsk.heapKB.toFixed(1)} KB`, `${m.marginal.rssKB.toFixed(1)} / ${m.marginal.heapKB.toFixed(1)} KB`, `${m.perAsk.externalKB.toFixed(1)} KB`, `${m.startS.toFixed(1)} s`]),
    ])
    console.log(`checked: while measured, the server held ${mem.map(m => m.openConnections).join(' / ')} connections from the bench (the asks were detached); afterwards ${memAsks.length}/${memAsks.length} asks still running, each with exactly ${MEMORY_CHARS} characters`)
    console.log(JSON.stringify({
      bench: 'reattach',
      reattach: rows,
      caughtUpMs: { p50: r1(pct(seqDone, 50)), p99: r1(pct(seqDone, 99)) },
      missedChars: [Math.min(...missed), Math.max(...missed)],
      serverCpuPerReattachMs: Number(cpuPerReattach.toFixed(2)),
      beforeFirstTextCaughtUpMs: { p50: r1(pct(beforeText, 50)), max: r1(Math.max(...beforeText)) },
      upToDateFirstByteMs: { p50: r1(pct(upToDate, 50)), max: r1(Math.max(...upToDate)) },
      snapshot: { chars: SNAPSHOT_CHARS, wireBytes: snapBytes, frames: snapShape, completeMs: { p50: r1(pct(snapDone, 50)), p99: r1(pct(snapDone, 99)) } },
      memory: { charsPerAsk: MEMORY_CHARS, replayBytesPerAsk: replayBytes, keptEventBytes, start: { rssMB: r1(base0.rssKb / 1024), heapMB: r1(base0.heapUsed / 2 ** 20) }, rows: mem },
      seconds: r1((performance.now() - t00) / 1000),
    }))
  }
  finally {
    await Promise.all(children.map(c => stop(c)))
    await dispatcher.close().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err)
  for (const c of children) c.kill('SIGKILL')
  process.exit(1)
})
