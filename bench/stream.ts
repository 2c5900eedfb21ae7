/**
 * Streaming benchmark (run by hand after `pnpm build`: `cd backend && npx tsx ../bench/stream.ts`; not
 * part of the test suite). Starts the fake upstream and our built server as separate processes (16 OpenAI
 * upstreams × 64 slots, all pointing at the fake; no demo), then measures:
 *
 *   - extra time to first token added by our server vs. calling the fake upstream directly:
 *     one stream at a time (p50) and 200 at once (p50/p99: the first burst after start, and the
 *     steady state: bursts after some more to warm up the JIT); both sides measured in the same run, interleaved,
 *     so the noisy machine affects both alike;
 *   - 1000 concurrent streams held open (every one received text; 0 errors);
 *   - server RSS right after start (idle) and per open stream.
 *
 * Prints one line per figure. Env: BENCH_SINGLE (default 100), BENCH_CONCURRENT (200),
 * BENCH_WARMUP_BURSTS (5 unmeasured bursts after the first), BENCH_BURSTS (5 measured bursts, pooled), BENCH_HOLD (1000), BENCH_CPU_PROF (a directory: profile the server
 * and print each burst's time window for bench/cpu-profile.ts), BENCH_SERVER_FLAGS (node flags for the server).
 */
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import process from 'node:process'
import { backendDir, cpuMs, dispatcher, freePort, json, pct, rssKb, undici, waitUp } from './support.js'

const { request } = undici

const FAKE_PORT = Number(process.env.BENCH_FAKE_PORT ?? await freePort())
const PORT = Number(process.env.BENCH_PORT ?? await freePort())
const FAKE = `http://127.0.0.1:${FAKE_PORT}`
const BASE = `http://127.0.0.1:${PORT}`
const API_KEY = 'sk-fake-0123456789abcdef'
const UPSTREAMS = 16
const SINGLE = Number(process.env.BENCH_SINGLE ?? 100)
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 200)
const HOLD = Number(process.env.BENCH_HOLD ?? 1000)
const WARMUP_BURSTS = Number(process.env.BENCH_WARMUP_BURSTS ?? 5)
const BURSTS = Number(process.env.BENCH_BURSTS ?? 5)
const MEMBERS = 10

const children: ChildProcess[] = []
/** Runs a script of the backend: TypeScript through tsx, the built server as it is deployed. */
function start(args: string[], env: Record<string, string> = {}, nodeFlags: string[] = []): ChildProcess {
  const loader = args[0]!.endsWith('.ts') ? ['--import', 'tsx'] : []
  const child = spawn(process.execPath, [...nodeFlags, ...loader, ...args], { cwd: backendDir, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
  children.push(child)
  return child
}

async function login(username: string, password: string): Promise<string> {
  const res = await json('POST', `${BASE}/api/auth/login`, { username, password })
  const cookie = [res.headers['set-cookie']].flat().map(String).find(c => c.startsWith('cws_session='))
  if (res.status !== 200 || !cookie)
    throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`)
  return cookie.slice('cws_session='.length).split(';')[0]!
}

interface StreamResult { ok: boolean, ttftMs: number, error?: string }

/**
 * One streamed answer. `firstMark` is what marks the first text in the stream. With `hold`, the
 * stream is kept open after the first text until `release` resolves, then disconnected.
 */
async function stream(url: string, body: unknown, token: string, firstMark: string, hold?: { firstText: () => void, release: Promise<void> }): Promise<StreamResult> {
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
        if (seen.includes(firstMark)) {
          ttftMs = performance.now() - t0
          seen = ''
          if (hold) {
            hold.firstText()
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

const ANSWER = 'Hello from the fake upstream, streamed in a few chunks.'
const quick = (i: number) => `[[fake: answer=${ANSWER}, chunks=4]] question ${i}`

function direct(i: number): Promise<StreamResult> {
  return stream(`${FAKE}/v1/chat/completions`, { model: 'gpt', stream: true, messages: [{ role: 'user', content: quick(i) }] }, API_KEY, 'Hello')
}
function ours(i: number, token: string): Promise<StreamResult> {
  return stream(`${BASE}/api/chat`, { model: `m${i % UPSTREAMS}`, content: quick(i) }, token, 'event: delta')
}

const ms = (v: number) => `${v.toFixed(1)} ms`

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cws-bench-'))
  const upstreams = Array.from({ length: UPSTREAMS }, (_, i) => [
    `  - id: u${i}`,
    `    type: openai`,
    `    base_url: ${FAKE}/v1`,
    `    api_key: ${API_KEY}`,
    `    concurrency: 64`,
    `    models: [{ key: m${i}, name: M${i}, slug: gpt }]`,
  ].join('\n')).join('\n')
  writeFileSync(path.join(dir, 'config.yaml'), [
    `server: { host: 127.0.0.1, port: ${PORT} }`,
    `log: { level: info, file: true }`, // the production defaults: JSON lines to stdout and to the data dir
    `admin: { username: admin, password: bench-admin-pass }`,
    `chat: { queue_max_depth: 10000, ping_seconds: 15 }`,
    `upstreams:`,
    upstreams,
  ].join('\n'))

  try {
    start(['test/fake-upstream/server.ts', '--port', String(FAKE_PORT), '--api-key', API_KEY])
    // The built server, as `pnpm start` and the container run it (tsx adds a helper call per function it creates).
    if (!existsSync(path.join(backendDir, 'dist/server.js')))
      throw new Error('backend/dist/server.js is missing: run `pnpm build` first')
    const server = start(['dist/server.js'], { CWS_CONFIG: path.join(dir, 'config.yaml'), CWS_DATA_DIR: path.join(dir, 'data'), NODE_ENV: 'production' }, [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), ...(process.env.BENCH_SERVER_FLAGS?.split(/\s+/).filter(Boolean) ?? [])])
    await waitUp(`${FAKE}/__stats`)
    await waitUp(`${BASE}/api/health`)
    // Idle memory right after start: health answered, nothing asked yet, 1 s to settle.
    await new Promise(r => setTimeout(r, 1000))
    const startRss = rssKb(server.pid!)
    console.log(`server rss right after start (idle): ${(startRss / 1024).toFixed(0)} MB`)

    // Members with room for many asks at once (max in-flight applies per upstream queue).
    const admin = await login('admin', 'bench-admin-pass')
    const tokens: string[] = []
    for (let i = 0; i < MEMBERS; i++) {
      const created = await json('POST', `${BASE}/api/admin/users`, { username: `bench${i}`, password: 'bench-member-pass' }, admin)
      if (created.status >= 300)
        throw new Error(`create member: ${created.status} ${JSON.stringify(created.body)}`)
      const id = created.body.id ?? created.body.user?.id
      const limits = await json('PATCH', `${BASE}/api/admin/users/${id}/limits`, { maxInFlight: 100 }, admin)
      if (limits.status >= 300)
        throw new Error(`limits: ${limits.status} ${JSON.stringify(limits.body)}`)
      tokens.push(await login(`bench${i}`, 'bench-member-pass'))
    }
    const token = (i: number) => tokens[i % tokens.length]!

    // Warm-up (JIT, connections, SQLite pages).
    for (let i = 0; i < 20; i++) {
      await direct(i)
      await ours(i, token(i))
    }

    // 1. One stream at a time, interleaved.
    const d1: number[] = []
    const o1: number[] = []
    for (let i = 0; i < SINGLE; i++) {
      const a = await direct(i)
      const b = await ours(i, token(i))
      if (!a.ok || !b.ok)
        throw new Error(`single: ${a.error ?? b.error}`)
      d1.push(a.ttftMs)
      o1.push(b.ttftMs)
    }
    const p50d = pct(d1, 50)
    const p50o = pct(o1, 50)
    console.log(`ttft single p50: direct ${ms(p50d)}, ours ${ms(p50o)}, overhead ${ms(p50o - p50d)} (ratio ${(p50o / p50d).toFixed(2)}x)`)

    // 2. 200 at once, each side separately: the first burst after start (cold: JIT, connection
    //    pools, heap), then BURSTS more (steady state), pooled; a pause between bursts.
    const burst = async (): Promise<{ d: number[], o: number[], cpu: number }> => {
      const dN = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => direct(i)))
      const w0 = process.hrtime.bigint()
      const c0 = cpuMs(server.pid!)
      const oN = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => ours(i, token(i))))
      const cpu = cpuMs(server.pid!) - c0
      // Monotonic window of the burst through us, in µs (the clock of --cpu-prof's timestamps).
      if (process.env.BENCH_CPU_PROF)
        console.error(`burst window us: ${w0 / 1000n} ${process.hrtime.bigint() / 1000n}`)
      const bad = [...dN, ...oN].filter(r => !r.ok)
      if (bad.length)
        throw new Error(`concurrent: ${bad.length} failed, e.g. ${bad[0]!.error}`)
      return { d: dN.map(r => r.ttftMs), o: oN.map(r => r.ttftMs), cpu }
    }
    const report = (label: string, d: number[], o: number[], extra = ''): void => {
      for (const p of [50, 99])
        console.log(`ttft ${CONCURRENT} concurrent, ${label}, p${p}: direct ${ms(pct(d, p))}, ours ${ms(pct(o, p))}, overhead ${ms(pct(o, p) - pct(d, p))} (ratio ${(pct(o, p) / pct(d, p)).toFixed(2)}x)${p === 99 ? extra : ''}`)
    }
    const cold = await burst()
    report('first burst after start', cold.d, cold.o)
    // The JIT keeps optimizing for a while (the server's CPU per burst falls for ~5 bursts): warm up
    // before measuring the steady state.
    const warmCpu: number[] = []
    for (let b = 0; b < WARMUP_BURSTS; b++) {
      await new Promise(r => setTimeout(r, 500))
      warmCpu.push((await burst()).cpu)
    }
    const dv: number[] = []
    const ov: number[] = []
    const perBurst: string[] = []
    const cpus: number[] = []
    for (let b = 0; b < BURSTS; b++) {
      await new Promise(r => setTimeout(r, 1000))
      const { d, o, cpu } = await burst()
      cpus.push(cpu)
      perBurst.push(ms(pct(o, 99) - pct(d, 99)))
      dv.push(...d)
      ov.push(...o)
    }
    if (BURSTS > 0)
      report(`steady state (${BURSTS} bursts after ${WARMUP_BURSTS} more to warm up, pooled)`, dv, ov, `; p99 overhead of each burst: ${perBurst.join(', ')}`)
    const perAsk = (c: number[]): string => `${(c.reduce((a, b) => a + b, 0) / Math.max(1, c.length) / CONCURRENT).toFixed(2)} ms`
    console.log(`server cpu per burst of ${CONCURRENT} asks: first ${cold.cpu.toFixed(0)} ms; warm-up ${warmCpu.map(c => c.toFixed(0)).join(', ')} ms; measured ${cpus.map(c => c.toFixed(0)).join(', ')} ms; per ask: first burst ${perAsk([cold.cpu])}, steady state ${perAsk(cpus)}`)

    // 3. Hold 1000 streams open at once (long, slowly paced answers), then measure memory.
    await new Promise(r => setTimeout(r, 2000))
    const idleRss = rssKb(server.pid!)
    let firstTexts = 0
    let releaseAll!: () => void
    const release = new Promise<void>((r) => {
      releaseAll = r
    })
    const t0 = performance.now()
    const held = Array.from({ length: HOLD }, (_, i) => stream(
      `${BASE}/api/chat`,
      { model: `m${i % UPSTREAMS}`, content: `[[fake: answerChars=24000, chunks=1200, gapMs=100]] hold ${i}` },
      token(i),
      'event: delta',
      { firstText: () => void firstTexts++, release },
    ))
    let failedEarly = 0
    const settledEarly = held.map(p => p.then((r) => {
      if (!r.ok)
        failedEarly++
    }))
    const allStreaming = (): boolean => firstTexts + failedEarly >= HOLD
    while (!allStreaming())
      await new Promise(r => setTimeout(r, 100))
    const rampMs = performance.now() - t0
    await new Promise(r => setTimeout(r, 3000)) // all open and streaming for a while
    const heldRss = rssKb(server.pid!)
    const status = await json('GET', `${BASE}/api/status`, undefined, admin)
    releaseAll()
    await Promise.all(settledEarly)
    const results = await Promise.all(held)
    const errors = results.filter(r => !r.ok)
    console.log(`streams held at once: ${firstTexts}/${HOLD} streaming (in flight per /api/status: ${status.body.inFlight}), errors ${errors.length}${errors.length ? ` (e.g. ${errors[0]!.error})` : ''}, all streaming after ${(rampMs / 1000).toFixed(1)} s`)
    console.log(`server rss: idle ${(idleRss / 1024).toFixed(0)} MB, with ${HOLD} open streams ${(heldRss / 1024).toFixed(0)} MB, per open stream ${((heldRss - idleRss) / HOLD).toFixed(1)} KB`)
  }
  finally {
    for (const c of children) c.kill('SIGTERM')
    await dispatcher.close().catch(() => {})
    await new Promise(r => setTimeout(r, 500))
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err)
  for (const c of children) c.kill('SIGKILL')
  process.exit(1)
})
