/**
 * Backpressure (issue #15 §2): 20 clients stop reading for 30 s while the upstream streams, in two
 * phases on two fresh servers.
 *
 * A. The issue's scenario at a fast real-model rate (about 10 K characters a second per answer):
 *    the kernel's loopback buffers (about 4 MB per connection here) absorb what the clients do not
 *    read, so the server itself must buffer nothing per client: its raw RSS growth (from /proc,
 *    nothing subtracted) over the stall stays ≤ 50 MB, though it keeps each answer's text (the
 *    channel's replay).
 * B. Clients so slow that the socket buffers fill (about 660 K characters a second per answer):
 *    each stalled client is dropped once its socket stayed full for `chat.stalled_reader_seconds`
 *    (its connection gone from the server's side, per `ss`), past `chat.detached_grace_seconds` its
 *    ask is stopped (the upstream request aborted, the ask stored as `interrupted`, its stored answer
 *    exactly the upstream's text up to the stop). Memory: RSS growth minus the answers' own text
 *    (two bytes a character in V8: the filler is not Latin-1, taken as what the fake upstream had
 *    sent at that moment) is printed and bounded by 200 MB, not 50: in ~14 s the server takes in
 *    ~230 MB of text, and SQLite's row rewrites of multi-MB answers (each checkpoint and the final
 *    `content || rest` build a new copy of the row in SQLite's own memory, which glibc keeps as
 *    resident heap) plus the UTF-8 buffers bound to them (freed at the next GC) account for
 *    +120–160 MB measured here. A real model writes that much text in hours, not seconds.
 */
import type { ClientRequest } from 'node:http'
import type { FakeUpstream } from '../fake-upstream/server.js'
import type { RealServer } from './real-server.js'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { open } from '../chat.helpers.js'
import { generatedAnswer } from '../fake-upstream/knobs.js'
import { startFakeUpstream } from '../fake-upstream/server.js'
import { openDb, soakMember } from './live-streams.js'
import { startRealServer } from './real-server.js'

const CLIENTS = 20
const STALL_MS = 30_000
const MB = 1024 * 1024
/**
 * A: about 60 characters every 5 ms per ask (~10 K/s, 20–50 times a fast real model), for longer
 * than the stall. At the suite's earlier ~60 K/s the answers' own text, which the server keeps by
 * design, was 57 MB of the +102 MB measured (+44 MB beyond it): no raw bound of 50 MB can hold there.
 */
const REAL_CHARS = 600_000
const REAL = `[[fake: answerChars=${REAL_CHARS}, chunks=10000, gapMs=5]]`
/** B: about 3 300 characters every 5 ms per ask, for longer than the test lasts. */
const FAST_CHARS = 20_000_000
const FAST = `[[fake: answerChars=${FAST_CHARS}, chunks=6000, gapMs=5]]`

/** The server's resident set, from /proc, in MB. */
function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
}

/** The peer ports of the connections the server (listening on `port`) still holds open. */
function serverPeers(port: number): Set<number> {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' })
  return new Set(out.split('\n').filter(Boolean).map(line => Number(line.trim().split(/\s+/).at(-1)!.split(':').at(-1))))
}

let fake: FakeUpstream
let server: RealServer
let dataDir: string
beforeEach(async () => {
  fake = await startFakeUpstream()
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'cws-soak-bp-'))
  server = await startRealServer(dataDir, {
    chat: { stalled_reader_seconds: 2, detached_grace_seconds: 2 },
    upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 64, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }] }],
  })
})
afterEach(async () => {
  await server?.stop()
  await fake?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

interface Stall { baseline: number, peakRss: number, end: number, textMb: number, peakCost: number, textAtPeakCost: number, dropped: number[], requests: ClientRequest[] }

/** Opens `CLIENTS` asks whose clients read the response headers, then nothing for `STALL_MS`. */
async function stall(directive: string): Promise<Stall> {
  const member = await soakMember(server, 'soaker', ['gpt'])
  // Warm: one ask through the whole path before the baseline.
  await (await open(server.url, member, { model: 'gpt', content: 'warm up' })).done
  const pid = server.child.pid!
  const port = Number(new URL(server.url).port)
  const baseline = rssMb(pid)
  const sent0 = fake.stats().textSent
  const requests: ClientRequest[] = []
  await Promise.all(Array.from({ length: CLIENTS }, () => new Promise<void>((resolve, reject) => {
    const req = request(`${server.url}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', 'authorization': `Bearer ${member.token}` } }, (res) => {
      res.pause()
      resolve()
    })
    req.on('error', () => {}) // dropped by the server: expected in B
    req.once('error', reject)
    req.end(JSON.stringify({ model: 'gpt', content: `${directive} never read` }))
    requests.push(req)
  })))
  const clientPorts = requests.map(r => r.socket!.localPort!)
  const s: Stall = { baseline, peakRss: baseline, end: 0, textMb: 0, peakCost: 0, textAtPeakCost: 0, dropped: [], requests }
  const droppedAt = new Map<number, number>()
  const t0 = Date.now()
  while (Date.now() - t0 < STALL_MS) {
    await new Promise(r => setTimeout(r, 250))
    const rss = rssMb(pid)
    const textMb = (fake.stats().textSent - sent0) * 2 / MB
    s.peakRss = Math.max(s.peakRss, rss)
    if (rss - baseline - textMb > s.peakCost) {
      s.peakCost = rss - baseline - textMb
      s.textAtPeakCost = textMb
    }
    const held = serverPeers(port)
    for (const p of clientPorts) {
      if (!held.has(p) && !droppedAt.has(p))
        droppedAt.set(p, Date.now() - t0)
    }
  }
  s.end = rssMb(pid)
  s.textMb = (fake.stats().textSent - sent0) * 2 / MB
  s.dropped = [...droppedAt.values()].sort((a, b) => a - b)
  return s
}

describe('backpressure', () => {
  it(`A: ${CLIENTS} clients stop reading for ${STALL_MS / 1000} s at ~10 K characters a second each: raw RSS growth ≤ 50 MB`, async () => {
    const s = await stall(REAL)
    for (const r of s.requests) r.destroy()
    console.log([
      `backpressure A: ${CLIENTS} clients stalled for ${STALL_MS / 1000} s, ~10 K characters/s per answer`,
      `  connections the server dropped: ${s.dropped.length}/${CLIENTS} (the kernel's buffers absorbed the rest)`,
      `  RSS ${s.baseline.toFixed(1)} MB → peak ${s.peakRss.toFixed(1)} MB (+${(s.peakRss - s.baseline).toFixed(1)}, limit 50), at the end ${s.end.toFixed(1)} MB; the answers' text ${s.textMb.toFixed(1)} MB`,
    ].join('\n'))
    expect(s.peakRss - s.baseline).toBeLessThanOrEqual(50)
  })

  it(`B: ${CLIENTS} clients too slow for the socket buffers: dropped, their asks stopped after the grace with their text intact, RSS beyond the text printed`, async () => {
    const s = await stall(FAST)
    for (const r of s.requests) r.destroy()
    const db = openDb(dataDir)
    try {
      const asks = db.prepare(`SELECT a."outcome", a."errorCode", a."charsOut", a."durationMs", m."content", m."status" FROM "Ask" a JOIN "Message" m ON m."id" = a."messageId" WHERE a."charsIn" > 20`).all() as Array<{ outcome: string, errorCode: string | null, charsOut: number, durationMs: number | null, content: string, status: string }>
      const stopped = asks.filter(a => a.outcome === 'interrupted' && a.errorCode === 'INTERRUPTED' && a.status === 'interrupted')
      const full = generatedAnswer(FAST_CHARS)
      const intact = asks.filter(a => a.content.length > 0 && a.content.length === a.charsOut && full.startsWith(a.content))
      const chars = asks.reduce((n, a) => n + a.charsOut, 0)
      const stops = asks.map(a => a.durationMs ?? 0).sort((a, b) => a - b)
      console.log([
        `backpressure B: ${CLIENTS} clients stalled for ${STALL_MS / 1000} s, ~660 K characters/s per answer (stalled_reader_seconds 2, detached_grace_seconds 2)`,
        `  dropped by the server: ${s.dropped.length}/${CLIENTS}, from ${((s.dropped[0] ?? 0) / 1000).toFixed(1)} s to ${((s.dropped.at(-1) ?? 0) / 1000).toFixed(1)} s into the stall`,
        `  asks stopped after the grace: ${stopped.length}/${CLIENTS} (after ${((stops[0] ?? 0) / 1000).toFixed(1)}–${((stops.at(-1) ?? 0) / 1000).toFixed(1)} s), ${fake.aborts} upstream requests aborted; stored answers intact up to the stop: ${intact.length}/${CLIENTS}, ${(chars / 1e6).toFixed(1)} M characters in all`,
        `  RSS ${s.baseline.toFixed(1)} MB → peak ${s.peakRss.toFixed(1)} MB (+${(s.peakRss - s.baseline).toFixed(1)}), at the end ${s.end.toFixed(1)} MB; the answers' text ${s.textMb.toFixed(1)} MB`,
        `  RSS growth beyond the answers' text: peak +${s.peakCost.toFixed(1)} MB (bound 200, see the docstring; the text was then ${s.textAtPeakCost.toFixed(1)} MB)`,
      ].join('\n'))
      expect(s.dropped.length).toBe(CLIENTS)
      expect(stopped.length).toBe(CLIENTS)
      expect(fake.aborts).toBeGreaterThanOrEqual(CLIENTS)
      expect(intact.length).toBe(CLIENTS)
      expect(s.peakCost).toBeLessThanOrEqual(200)
    }
    finally {
      db.close()
    }
  })
})
