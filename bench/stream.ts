/**
 * Streaming benchmark (run by hand after `pnpm build`: `cd backend && npx tsx ../bench/stream.ts`; not
 * part of the test suite). Starts the fake upstream and our built server as separate processes (OpenAI
 * upstreams × 64 slots, all pointing at the fake, no demo: the timed phases use 16 of them, the
 * held streams all, enough for BENCH_HOLD), then measures, each figure against the fake
 * upstream called directly in the same run (issue #15 §6's table):
 *
 *   - the server's RSS right after start (idle) and how long it took to answer /api/health;
 *   - extra time to first token, one stream at a time (p50/p99; interleaved with direct calls);
 *   - 200 asks within 100 ms (BENCH_SPREAD_MS; 0 = all at once): the first burst after start, then
 *     the warm state (bursts after some more to warm up the JIT), p50/p99, and the server's CPU per
 *     fast stream;
 *   - 50 within 100 ms (warm);
 *   - 200 slow streams (5 s answers in 100 chunks) within 100 ms: the server's CPU per slow stream
 *     (start to the last `done`); then, while 200 slow streams are held open, the extra time to first
 *     token of asks one at a time (p50/p99);
 *   - 2000 streams held open at once, a chunk a second each (every one received text; 0 errors), and
 *     the RSS per open stream.
 *
 * Prints one line per figure and the load average at the start and the end (the machine is shared).
 * Env: BENCH_SINGLE (100), BENCH_CONCURRENT (200), BENCH_SPREAD_MS (100), BENCH_SMALL (50),
 * BENCH_WARMUP_BURSTS (5 unmeasured bursts after the first), BENCH_BURSTS (5 measured bursts,
 * pooled), BENCH_SLOW (200), BENCH_HOLD (2000), BENCH_HOLD_GAP_MS (1000), BENCH_CPU_PROF (a directory: profile the server and
 * print each phase's time window for bench/cpu-profile.ts), BENCH_SERVER_FLAGS (node flags for the server),
 * BENCH_SERVER (the server's entry, relative to backend/: dist/server.js; e.g. another build to compare),
 * BENCH_COALESCE_MS (the server's chat.stream_coalesce_ms; its default when unset).
 */
import type { ChildProcess } from 'node:child_process'
import type { StreamResult } from './stream-client.js'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import process from 'node:process'
import { serverNodeFlags } from '../scripts/node-flags.mjs'
import { API_KEY, quick, sides, slow, spread, stream } from './stream-client.js'
import { backendDir, cpuMs, dispatcher, freePort, json, pct, rssKb, waitUp } from './support.js'

const FAKE_PORT = Number(process.env.BENCH_FAKE_PORT ?? await freePort())
const PORT = Number(process.env.BENCH_PORT ?? await freePort())
const FAKE = `http://127.0.0.1:${FAKE_PORT}`
const BASE = `http://127.0.0.1:${PORT}`
const SINGLE = Number(process.env.BENCH_SINGLE ?? 100)
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 200)
const SPREAD_MS = Number(process.env.BENCH_SPREAD_MS ?? 100)
const SMALL = Number(process.env.BENCH_SMALL ?? 50)
const SLOW = Number(process.env.BENCH_SLOW ?? 200)
const HOLD = Number(process.env.BENCH_HOLD ?? 2000)
/** The held streams' pace: a chunk this often (1000 at 100 ms made ~1.2 cores of work for our server alone). */
const HOLD_GAP_MS = Number(process.env.BENCH_HOLD_GAP_MS ?? 1000)
/** The upstreams the timed phases spread their asks over (the issue's peer had 4 × 64 slots). */
const PHASE_UPSTREAMS = 16
/** All upstreams, 64 slots each (the most one may have): enough for HOLD streams at once. */
const UPSTREAMS = Math.max(PHASE_UPSTREAMS, Math.ceil(HOLD / 60))
const WARMUP_BURSTS = Number(process.env.BENCH_WARMUP_BURSTS ?? 5)
const BURSTS = Number(process.env.BENCH_BURSTS ?? 5)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20)
const MEMBERS = 10
const PROF = !!process.env.BENCH_CPU_PROF

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

const ms = (v: number) => `${v.toFixed(1)} ms`
const load = (): string => os.loadavg().map(l => l.toFixed(2)).join(' ')
/** Monotonic µs (the clock of --cpu-prof's timestamps), for the profile windows printed with BENCH_CPU_PROF. */
const us = (): bigint => process.hrtime.bigint() / 1000n
function compare(label: string, d: number[], o: number[], ps: number[], extra = ''): void {
  const line = ps.map(p => `p${p} direct ${ms(pct(d, p))}, ours ${ms(pct(o, p))}, overhead ${ms(pct(o, p) - pct(d, p))} (ratio ${(pct(o, p) / pct(d, p)).toFixed(2)}x)`).join('; ')
  console.log(`ttft ${label}: ${line}${extra}`)
}
function failed(label: string, rs: StreamResult[]): void {
  const bad = rs.filter(r => !r.ok)
  if (bad.length)
    throw new Error(`${label}: ${bad.length} failed, e.g. ${bad[0]!.error}`)
}

async function main(): Promise<void> {
  console.log(`load average at start: ${load()}`)
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
    `chat: { queue_max_depth: 10000, ping_seconds: 15${process.env.BENCH_COALESCE_MS ? `, stream_coalesce_ms: ${Number(process.env.BENCH_COALESCE_MS)}` : ''} }`,
    `upstreams:`,
    upstreams,
  ].join('\n'))

  try {
    start(['test/fake-upstream/server.ts', '--port', String(FAKE_PORT), '--api-key', API_KEY])
    // The built server, as `pnpm start` and the container run it (tsx adds a helper call per function it creates).
    const serverJs = process.env.BENCH_SERVER ?? 'dist/server.js'
    if (!existsSync(path.join(backendDir, serverJs)))
      throw new Error(`backend/${serverJs} is missing: run \`pnpm build\` first`)
    await waitUp(`${FAKE}/__stats`)
    const bootT0 = performance.now()
    const server = start([serverJs], { CWS_CONFIG: path.join(dir, 'config.yaml'), CWS_DATA_DIR: path.join(dir, 'data'), NODE_ENV: 'production' }, [...serverNodeFlags(), ...(PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), ...(process.env.BENCH_SERVER_FLAGS?.split(/\s+/).filter(Boolean) ?? [])])
    const exited = new Promise<never>((_, reject) => server.once('exit', code => reject(new Error(`the server exited (${code})`))))
    await Promise.race([waitUp(`${BASE}/api/health`), exited])
    const bootMs = performance.now() - bootT0
    // Idle memory right after start: health answered, nothing asked yet, 1 s to settle.
    await new Promise(r => setTimeout(r, 1000))
    const startRss = rssKb(server.pid!)
    console.log(`server rss right after start (idle): ${(startRss / 1024).toFixed(0)} MB; /api/health answered ${ms(bootMs)} after the spawn`)
    const cpu = (): number => cpuMs(server.pid!)

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
    const { direct, ours } = sides(FAKE, BASE, PHASE_UPSTREAMS, token)

    // Warm-up (JIT, connections, SQLite pages).
    for (let i = 0; i < WARMUP; i++) {
      await direct(i, quick(i))
      await ours(i, quick(i))
    }

    // 1. One stream at a time, interleaved.
    const d1: number[] = []
    const o1: number[] = []
    const s0 = us()
    for (let i = 0; i < SINGLE; i++) {
      const a = await direct(i, quick(i))
      const b = await ours(i, quick(i))
      failed('single', [a, b])
      d1.push(a.ttftMs)
      o1.push(b.ttftMs)
    }
    if (PROF)
      console.error(`single window us: ${s0} ${us()}`)
    if (SINGLE > 0)
      compare('one stream at a time', d1, o1, [50, 99])

    // 2. CONCURRENT within SPREAD_MS, each side separately: the first burst after start (cold: JIT,
    //    connection pools, heap), then more to warm up, then BURSTS measured and pooled.
    const burst = async (n: number, content: (i: number) => string): Promise<{ d: number[], o: number[], cpu: number }> => {
      const dN = await spread(n, SPREAD_MS, i => direct(i, content(i)))
      const w0 = us()
      const c0 = cpu()
      const oN = await spread(n, SPREAD_MS, i => ours(i, content(i)))
      const used = cpu() - c0
      if (PROF)
        console.error(`burst window us: ${w0} ${us()}`)
      failed(`${n} within ${SPREAD_MS} ms`, [...dN, ...oN])
      return { d: dN.map(r => r.ttftMs), o: oN.map(r => r.ttftMs), cpu: used }
    }
    const within = `${CONCURRENT} within ${SPREAD_MS} ms`
    const cold = await burst(CONCURRENT, quick)
    compare(`${within}, first burst after start`, cold.d, cold.o, [50, 99])
    // The JIT keeps optimizing for a while (the server's CPU per burst falls for a few bursts).
    const warmCpu: number[] = []
    for (let b = 0; b < WARMUP_BURSTS; b++) {
      await new Promise(r => setTimeout(r, 500))
      warmCpu.push((await burst(CONCURRENT, quick)).cpu)
    }
    const dv: number[] = []
    const ov: number[] = []
    const perBurst: string[] = []
    const cpus: number[] = []
    for (let b = 0; b < BURSTS; b++) {
      await new Promise(r => setTimeout(r, 1000))
      const { d, o, cpu } = await burst(CONCURRENT, quick)
      cpus.push(cpu)
      perBurst.push(ms(pct(o, 99) - pct(d, 99)))
      dv.push(...d)
      ov.push(...o)
    }
    if (BURSTS > 0)
      compare(`${within}, warm (${BURSTS} bursts after ${WARMUP_BURSTS} more to warm up, pooled)`, dv, ov, [50, 99], `; p99 overhead of each burst: ${perBurst.join(', ')}`)
    const perAsk = (c: number[]): string => `${(c.reduce((a, b) => a + b, 0) / Math.max(1, c.length) / CONCURRENT).toFixed(2)} ms`
    console.log(`server cpu per burst of ${CONCURRENT}: first ${cold.cpu.toFixed(0)} ms; warm-up ${warmCpu.map(c => c.toFixed(0)).join(', ')} ms; measured ${cpus.map(c => c.toFixed(0)).join(', ')} ms; per fast stream: first burst ${perAsk([cold.cpu])}, warm ${perAsk(cpus)}`)

    // 3. SMALL within SPREAD_MS (warm), 5 bursts pooled.
    const ds: number[] = []
    const os_: number[] = []
    for (let b = 0; b < (SMALL > 0 ? 5 : 0); b++) {
      await new Promise(r => setTimeout(r, 500))
      const { d, o } = await burst(SMALL, quick)
      ds.push(...d)
      os_.push(...o)
    }
    if (SMALL > 0)
      compare(`${SMALL} within ${SPREAD_MS} ms, warm (5 bursts pooled)`, ds, os_, [50, 99])

    // 4. SLOW slow streams within SPREAD_MS: (a) alone, for the server's CPU per slow stream from
    //    the first ask to the last `done`; (b) again, and while they are all open, asks one at a
    //    time (interleaved with direct ones, as in 1): what held streams cost a new member's first token.
    if (SLOW > 0)
      await slowPhase()
    async function slowPhase(): Promise<void> {
      await new Promise(r => setTimeout(r, 1000))
      const sc0 = cpu()
      const sw0 = us()
      const wave = await spread(SLOW, SPREAD_MS, i => ours(i, slow(i)))
      const slowCpu = cpu() - sc0
      if (PROF)
        console.error(`slow window us: ${sw0} ${us()}`)
      failed('slow streams', wave)
      console.log(`server cpu per slow stream (2000 characters in 100 chunks 50 ms apart, ${SLOW} within ${SPREAD_MS} ms): ${(slowCpu / SLOW).toFixed(2)} ms (${slowCpu.toFixed(0)} ms for ${SLOW}); their own first tokens p50 ${ms(pct(wave.map(r => r.ttftMs), 50))}, p99 ${ms(pct(wave.map(r => r.ttftMs), 99))}`)

      await new Promise(r => setTimeout(r, 1000))
      // Read to their end (a stream dropped early would go on detached, and load the phases after).
      let streaming = 0
      const open = Array.from({ length: SLOW }, (_, i) => stream(`${BASE}/api/chat`, { model: `m${i % PHASE_UPSTREAMS}`, content: `[[fake: answerChars=4000, chunks=200, gapMs=50]] held ${i}` }, token(i), 'event: delta', { firstText: () => void streaming++ }))
      const allOpen = (): boolean => streaming >= SLOW
      while (!allOpen())
        await new Promise(r => setTimeout(r, 20))
      const dh: number[] = []
      const oh: number[] = []
      const hw0 = us()
      for (let i = 0; i < SINGLE; i++) {
        const x = await direct(i, quick(i))
        const y = await ours(i, quick(i))
        failed('single while slow streams are open', [x, y])
        dh.push(x.ttftMs)
        oh.push(y.ttftMs)
      }
      if (PROF)
        console.error(`held window us: ${hw0} ${us()}`)
      const probesMs = (Number(us() - hw0) / 1000).toFixed(0)
      failed('held slow streams', await Promise.all(open))
      compare(`one at a time while ${SLOW} slow streams are held open (a chunk every 50 ms each, 10 s answers; the ${SINGLE} pairs took ${probesMs} ms)`, dh, oh, [50, 99])
    }

    // 5. Hold HOLD streams open at once (long answers, a chunk a second), then measure memory.
    if (HOLD > 0)
      await holdPhase()
    console.log(`load average at the end: ${load()}`)
    async function holdPhase(): Promise<void> {
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
        { model: `m${i % UPSTREAMS}`, content: `[[fake: answerChars=24000, chunks=1200, gapMs=${HOLD_GAP_MS}]] hold ${i}` },
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
