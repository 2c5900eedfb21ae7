/**
 * Backpressure (issue #15 §2): 20 clients stop reading for 30 s while the upstream streams
 * fast. The server's RSS grows ≤ 50 MB; the stalled clients are dropped (`chat.stalled_reader_seconds` with a
 * full socket) and, past `chat.detached_grace_seconds`, their asks are stopped — the upstream
 * requests aborted, the asks stored as interrupted.
 */
import type { ClientRequest } from 'node:http'
import type { FakeUpstream } from '../fake-upstream/server.js'
import type { RealServer } from './real-server.js'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { open } from '../chat.helpers.js'
import { startFakeUpstream } from '../fake-upstream/server.js'
import { openDb, soakMember } from './live-streams.js'
import { startRealServer } from './real-server.js'

const CLIENTS = 20
const STALL_MS = 30_000
/** 300 characters every 5 ms per ask, for longer than the test lasts. */
const FAST = '[[fake: answerChars=3000000, chunks=10000, gapMs=5]]'

/** The server's resident set, from /proc. */
function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  return kb / 1024
}

let fake: FakeUpstream
let server: RealServer
let dataDir: string
beforeAll(async () => {
  fake = await startFakeUpstream()
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'cws-soak-bp-'))
  server = await startRealServer(dataDir, {
    chat: { stalled_reader_seconds: 5, detached_grace_seconds: 5 },
    upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 64, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }] }],
  })
})
afterAll(async () => {
  await server?.stop()
  await fake?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('backpressure', () => {
  it(`${CLIENTS} clients that stop reading for ${STALL_MS / 1000} s: RSS growth ≤ 50 MB, the clients dropped, their asks stopped after the grace`, async () => {
    const member = await soakMember(server, 'soaker', ['gpt'])
    // Warm: one ask through the whole path before the baseline.
    await (await open(server.url, member, { model: 'gpt', content: 'warm up' })).done
    const pid = server.child.pid!
    const baseline = rssMb(pid)

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

    let peak = baseline
    const t0 = Date.now()
    while (Date.now() - t0 < STALL_MS) {
      await new Promise(r => setTimeout(r, 250))
      peak = Math.max(peak, rssMb(pid))
    }
    const end = rssMb(pid)
    for (const r of requests) r.destroy()

    const db = openDb(dataDir)
    try {
      const asks = db.prepare('SELECT "outcome", "errorCode", "charsOut" FROM "Ask" WHERE "charsIn" > 20').all() as Array<{ outcome: string, errorCode: string | null, charsOut: number }>
      const stopped = asks.filter(a => a.outcome === 'interrupted' && a.errorCode === 'INTERRUPTED')
      const chars = asks.reduce((n, a) => n + a.charsOut, 0)
      console.log(`backpressure: ${CLIENTS} clients stalled for ${STALL_MS / 1000} s; RSS ${baseline.toFixed(1)} MB → peak ${peak.toFixed(1)} MB (+${(peak - baseline).toFixed(1)}), at the end ${end.toFixed(1)} MB; ${stopped.length}/${CLIENTS} asks stopped after the grace, ${fake.aborts} upstream requests aborted, ${(chars / 1e6).toFixed(1)} M characters streamed meanwhile`)
      expect(peak - baseline).toBeLessThanOrEqual(50)
      expect(stopped.length).toBe(CLIENTS)
      expect(fake.aborts).toBeGreaterThanOrEqual(CLIENTS)
    }
    finally {
      db.close()
    }
  })
})
