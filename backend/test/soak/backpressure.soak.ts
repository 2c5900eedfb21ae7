/**
 * Backpressure (issue #15 §2): 20 clients stop reading for 30 s while the upstream streams fast.
 *
 * - The upstream streams each answer at several hundred KB/s, so the kernel's socket buffers
 *   (about 4 MB per connection on loopback here) fill within seconds and `write()` starts returning
 *   false.
 * - Each stalled client is dropped once its socket stayed full for `chat.stalled_reader_seconds`
 *   (counted: its connection is gone from the server's side, per `ss`), and past
 *   `chat.detached_grace_seconds` its ask is stopped: the upstream request aborted, the ask stored
 *   as `interrupted`, its stored answer exactly the upstream's text up to the stop.
 * - Memory: what is counted is the server's RSS (from /proc) over the stall, minus the answers'
 *   own text, which the server keeps by design, once per ask (the channel's replay; two bytes per
 *   character: the filler text is not Latin-1), taken as what the fake upstream had sent at that
 *   moment. That rest — the cost of the stalled readers, checkpoints, buffers and garbage — stays
 *   ≤ 50 MB. The raw RSS is printed too.
 */
import type { ClientRequest } from 'node:http'
import type { FakeUpstream } from '../fake-upstream/server.js'
import type { RealServer } from './real-server.js'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { open } from '../chat.helpers.js'
import { generatedAnswer } from '../fake-upstream/knobs.js'
import { startFakeUpstream } from '../fake-upstream/server.js'
import { openDb, soakMember } from './live-streams.js'
import { startRealServer } from './real-server.js'

const CLIENTS = 20
const STALL_MS = 30_000
const ANSWER_CHARS = 20_000_000
/** About 3 300 characters every 5 ms per ask, for longer than the test lasts. */
const FAST = `[[fake: answerChars=${ANSWER_CHARS}, chunks=6000, gapMs=5]]`
const MB = 1024 * 1024

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
beforeAll(async () => {
  fake = await startFakeUpstream()
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'cws-soak-bp-'))
  server = await startRealServer(dataDir, {
    chat: { stalled_reader_seconds: 2, detached_grace_seconds: 2 },
    upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 64, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }] }],
  })
})
afterAll(async () => {
  await server?.stop()
  await fake?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('backpressure', () => {
  it(`${CLIENTS} clients that stop reading for ${STALL_MS / 1000} s: RSS beyond the answers' text ≤ 50 MB, the clients dropped, their asks stopped after the grace with their text intact`, async () => {
    const member = await soakMember(server, 'soaker', ['gpt'])
    // Warm: one ask through the whole path before the baseline.
    await (await open(server.url, member, { model: 'gpt', content: 'warm up' })).done
    const pid = server.child.pid!
    const port = Number(new URL(server.url).port)
    const baseline = rssMb(pid)
    const sent0 = fake.stats().textSent

    // Each client reads the response headers, then nothing more.
    const requests: ClientRequest[] = []
    await Promise.all(Array.from({ length: CLIENTS }, () => new Promise<void>((resolve, reject) => {
      const req = request(`${server.url}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', 'authorization': `Bearer ${member.token}` } }, (res) => {
        res.pause()
        resolve()
      })
      req.on('error', () => {}) // dropped by the server: expected
      req.once('error', reject)
      req.end(JSON.stringify({ model: 'gpt', content: `${FAST} never read` }))
      requests.push(req)
    })))
    const clientPorts = requests.map(r => r.socket!.localPort!)

    let peakRss = baseline
    let peakCost = 0
    let textAtPeakCost = 0
    const droppedAt = new Map<number, number>()
    const t0 = Date.now()
    while (Date.now() - t0 < STALL_MS) {
      await new Promise(r => setTimeout(r, 250))
      const rss = rssMb(pid)
      const textMb = (fake.stats().textSent - sent0) * 2 / MB
      peakRss = Math.max(peakRss, rss)
      if (rss - baseline - textMb > peakCost) {
        peakCost = rss - baseline - textMb
        textAtPeakCost = textMb
      }
      const held = serverPeers(port)
      for (const p of clientPorts) {
        if (!held.has(p) && !droppedAt.has(p))
          droppedAt.set(p, Date.now() - t0)
      }
    }
    const end = rssMb(pid)
    const textMb = (fake.stats().textSent - sent0) * 2 / MB
    for (const r of requests) r.destroy()

    const db = openDb(dataDir)
    try {
      const asks = db.prepare(`SELECT a."outcome", a."errorCode", a."charsOut", a."durationMs", m."content", m."status" FROM "Ask" a JOIN "Message" m ON m."id" = a."messageId" WHERE a."charsIn" > 20`).all() as Array<{ outcome: string, errorCode: string | null, charsOut: number, durationMs: number | null, content: string, status: string }>
      const stopped = asks.filter(a => a.outcome === 'interrupted' && a.errorCode === 'INTERRUPTED' && a.status === 'interrupted')
      const full = generatedAnswer(ANSWER_CHARS)
      const intact = asks.filter(a => a.content.length > 0 && a.content.length === a.charsOut && full.startsWith(a.content))
      const chars = asks.reduce((n, a) => n + a.charsOut, 0)
      const drops = [...droppedAt.values()].sort((a, b) => a - b)
      const stops = asks.map(a => a.durationMs ?? 0).sort((a, b) => a - b)
      console.log([
        `backpressure: ${CLIENTS} clients stalled for ${STALL_MS / 1000} s (stalled_reader_seconds 2, detached_grace_seconds 2)`,
        `  dropped by the server: ${droppedAt.size}/${CLIENTS}, from ${((drops[0] ?? 0) / 1000).toFixed(1)} s to ${((drops.at(-1) ?? 0) / 1000).toFixed(1)} s into the stall`,
        `  asks stopped after the grace: ${stopped.length}/${CLIENTS} (after ${((stops[0] ?? 0) / 1000).toFixed(1)}–${((stops.at(-1) ?? 0) / 1000).toFixed(1)} s), ${fake.aborts} upstream requests aborted; stored answers intact up to the stop: ${intact.length}/${CLIENTS}, ${(chars / 1e6).toFixed(1)} M characters in all`,
        `  RSS ${baseline.toFixed(1)} MB → peak ${peakRss.toFixed(1)} MB (+${(peakRss - baseline).toFixed(1)}), at the end ${end.toFixed(1)} MB; the answers' text ${textMb.toFixed(1)} MB`,
        `  RSS growth beyond the answers' text: peak +${peakCost.toFixed(1)} MB (limit 50; the text was then ${textAtPeakCost.toFixed(1)} MB)`,
      ].join('\n'))
      expect(droppedAt.size).toBe(CLIENTS)
      expect(stopped.length).toBe(CLIENTS)
      expect(fake.aborts).toBeGreaterThanOrEqual(CLIENTS)
      expect(intact.length).toBe(CLIENTS)
      expect(peakCost).toBeLessThanOrEqual(50)
    }
    finally {
      db.close()
    }
  })
})
