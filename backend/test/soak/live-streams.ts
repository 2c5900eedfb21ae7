import type { ChatStream } from '../chat.helpers.js'
import type { FakeUpstream } from '../fake-upstream/server.js'
/**
 * Shared by the restart suites: a real server on fake upstreams (OpenAI and ChatGPT web), a member
 * with counted quotas and room for 50 asks at once, and 50 live answer streams.
 */
import type { TestSession } from '../helper.js'
import type { RealServer } from './real-server.js'
import path from 'node:path'
import Database from 'better-sqlite3'
import { api, eventually, open } from '../chat.helpers.js'
import { loginReal, SOAK_ADMIN } from './real-server.js'

export const ANSWER_CHARS = 3000
/** About 4.5 s per answer: long enough to cut every one of them in the middle. */
export const SLOW = `[[fake: answerChars=${ANSWER_CHARS}, chunks=300, gapMs=15]]`
export const QUOTA = 1000

export function serverConfig(fake: FakeUpstream): Record<string, unknown> {
  return {
    chat: { ping_seconds: 600 },
    upstreams: [
      { id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 64, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }] },
      { id: 'web', type: 'chatgpt-web', base_url: fake.chatgptBaseUrl, access_token: fake.accessToken, concurrency: 64, models: [{ key: 'web', name: 'Web', slug: 'gpt-4o' }] },
    ],
  }
}

/** A member with QUOTA asks in all and per model, 50 at a time. */
export async function soakMember(server: RealServer, username = 'soaker', models = ['gpt', 'web']): Promise<TestSession> {
  const admin = await loginReal(server.url, SOAK_ADMIN.username, SOAK_ADMIN.password)
  const password = 'soak-member-pass-1234'
  const created = await api(server.url, admin, 'POST', '/api/admin/users', { username, password })
  if (created.status !== 201)
    throw new Error(`creating ${username}: ${created.status} ${JSON.stringify(created.json)}`)
  const limits = await api(server.url, admin, 'PATCH', `/api/admin/users/${created.json.id}/limits`, { maxInFlight: 100, totalAsks: QUOTA, modelAsks: Object.fromEntries(models.map(m => [m, QUOTA])) })
  if (limits.status !== 200)
    throw new Error(`limits: ${limits.status} ${JSON.stringify(limits.json)}`)
  return loginReal(server.url, username, password)
}

/** 50 answers streaming at once (25 per upstream), each past its first text and about a second in. */
export async function fiftyLiveStreams(url: string, member: TestSession): Promise<ChatStream[]> {
  const streams = await Promise.all(Array.from({ length: 50 }, (_, i) => open(url, member, { model: i % 2 ? 'web' : 'gpt', content: `${SLOW} question ${i}` })))
  await Promise.all(streams.map(s => s.waitFor('delta')))
  // Past the first checkpoint, and between two of them.
  await new Promise(r => setTimeout(r, 1500))
  await eventually(() => streams.every(s => s.text.length > 0))
  return streams
}

/** The SQLite file the server wrote (open it only while the server is stopped, or read-only). */
export function openDb(dataDir: string): Database.Database {
  return new Database(path.join(dataDir, 'cws.db'))
}

/** Characters a member saw that the stored answer does not hold (its stored text must begin with what was shown). */
export function charsLost(seen: string, stored: string): number {
  let i = 0
  while (i < seen.length && seen[i] === stored[i])
    i++
  return seen.length - i
}
