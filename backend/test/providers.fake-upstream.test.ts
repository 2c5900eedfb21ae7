import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream/server.js'

describe('fake upstream', () => {
  let fake: Awaited<ReturnType<typeof startFakeUpstream>>
  beforeAll(async () => {
    fake = await startFakeUpstream({ knobs: { chunks: 2 } })
  })
  afterAll(async () => {
    await fake.close()
  })

  it('checks the bearer token, takes knobs from a header, and reports counts on /__stats', async () => {
    const wrong = await request(`${fake.openaiBaseUrl}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: '{}' })
    expect(wrong.statusCode).toBe(401)
    await wrong.body.dump()

    const steered = await request(`${fake.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'authorization': `Bearer ${fake.apiKey}`, 'x-fake-upstream': JSON.stringify({ status: 429, retryAfter: 9 }) },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    })
    expect(steered.statusCode).toBe(429)
    expect(steered.headers['retry-after']).toBe('9')
    await steered.body.dump()

    const stream = await request(`${fake.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}` },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi [[fake: answerChars=30, chunks=3]]' }] }),
    })
    const text = await stream.body.text()
    expect(text.match(/"content":"[^"]+"/g)).toHaveLength(3)
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true)

    const stats = await (await request(`${fake.url}/__stats`)).body.json()
    expect(stats).toEqual({ started: 3, completed: 3, aborted: 0, textSent: 30 })
    expect(fake.requests.map(r => r.headers.authorization)).toEqual(['Bearer nope', `Bearer ${fake.apiKey}`, `Bearer ${fake.apiKey}`])
  })
})
