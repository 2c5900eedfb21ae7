import type { DemoUpstreamConfig } from '../src/modules/providers/demo/demo.provider.js'
import type { ProviderEvent } from '../src/modules/providers/types.js'
import { describe, expect, it } from 'vitest'
import { effectiveUpstreams, parseConfig } from '../src/config/load.js'
import { createDemoProvider } from '../src/modules/providers/demo/demo.provider.js'
import { createUpstreams } from '../src/modules/upstreams/upstreams.service.js'
import { buildTestApp } from './helper.js'
import { textOf } from './providers.helpers.js'

async function collect(it: AsyncIterable<ProviderEvent>): Promise<ProviderEvent[]> {
  const out: ProviderEvent[] = []
  for await (const e of it)
    out.push(e)
  return out
}

const DEMO: DemoUpstreamConfig = { id: 'demo', type: 'demo', speed: 400, first_token_ms: 400, models: [{ key: 'demo', name: 'Demo (offline)', slug: 'demo' }] }
const fast: DemoUpstreamConfig = { ...DEMO, speed: 1_000_000, first_token_ms: 0 }

describe('demo provider', () => {
  it('streams a deterministic Markdown answer quoting the question, with title and done', async () => {
    const p = createDemoProvider(fast)
    const q = 'How do I find a number in a sorted list?'
    const a = await collect(p.ask({ slug: 'demo', content: q, signal: new AbortController().signal }))
    const b = await collect(p.ask({ slug: 'demo', content: q, signal: new AbortController().signal }))
    expect(a).toEqual(b)
    const text = textOf(a)
    expect(text.split('\n')[0]).toContain(q)
    expect(text).toMatch(/^## /m) // heading
    expect(text).toMatch(/^\| .* \|$/m) // table
    expect(text).toMatch(/^\| --- \|/m)
    expect(text).toContain('```typescript\n')
    expect(text).toContain('```python\n')
    expect(text).toMatch(/\$\$\n[^$]+\n\$\$/) // block math
    expect(text).toMatch(/[^$]\$[^$\n]+\$[^$]/) // inline math
    expect(text).toMatch(/^1\. /m)
    expect(text).toMatch(/^- /m)
    expect(text).toMatch(/demo/i)
    // many small chunks, never empty
    const chunks = a.filter(e => e.type === 'text')
    expect(chunks.length).toBeGreaterThan(100)
    expect(chunks.every(c => c.type === 'text' && c.text.length > 0 && [...c.text].length <= 7)).toBe(true)
    expect(a.filter(e => e.type === 'title')).toEqual([{ type: 'title', title: 'How do I find a number' }])
    const done = a.at(-1)
    expect(done).toMatchObject({ type: 'done', finishReason: 'stop' })
    expect(done?.type === 'done' && done.usage?.completionTokens).toBeGreaterThan(100)
  })

  it('answers follow-ups visibly (quotes the new question) and gives no title then', async () => {
    const p = createDemoProvider(fast)
    const events = await collect(p.ask({
      slug: 'demo',
      content: 'And in Rust?',
      history: [{ role: 'user', content: 'first' }, { role: 'assistant', content: 'answer' }],
      signal: new AbortController().signal,
    }))
    expect(textOf(events).split('\n')[0]).toContain('And in Rust?')
    expect(events.some(e => e.type === 'title')).toBe(false)
  })

  it('supports action "continue"', async () => {
    const p = createDemoProvider(fast)
    const events = await collect(p.ask({ slug: 'demo', content: '', action: 'continue', signal: new AbortController().signal }))
    expect(textOf(events)).toContain('Continued')
    expect(events.at(-1)).toMatchObject({ type: 'done', finishReason: 'stop' })
  })

  it('stops at once when aborted, mid-stream and during the first-token wait', async () => {
    const p = createDemoProvider({ ...DEMO, speed: 200, first_token_ms: 0 })
    const ac = new AbortController()
    const got: string[] = []
    const run = (async () => {
      for await (const e of p.ask({ slug: 'demo', content: 'hello', signal: ac.signal })) {
        if (e.type === 'text')
          got.push(e.text)
        if (got.length === 3)
          ac.abort()
      }
    })()
    await expect(run).rejects.toMatchObject({ name: 'AbortError' })
    expect(got.length).toBe(3)

    const slow = createDemoProvider({ ...DEMO, first_token_ms: 60_000 })
    const ac2 = new AbortController()
    const t0 = Date.now()
    setTimeout(() => ac2.abort(), 20)
    await expect(collect(slow.ask({ slug: 'demo', content: 'x', signal: ac2.signal }))).rejects.toMatchObject({ name: 'AbortError' })
    expect(Date.now() - t0).toBeLessThan(5_000)
  })

  it('paces output by the speed knob (a faster upstream delivers more in the same time)', async () => {
    const countIn = async (speed: number, ms: number): Promise<number> => {
      const p = createDemoProvider({ ...DEMO, speed, first_token_ms: 0 })
      const ac = new AbortController()
      let chars = 0
      setTimeout(() => ac.abort(), ms)
      try {
        for await (const e of p.ask({ slug: 'demo', content: 'pace me', signal: ac.signal })) {
          if (e.type === 'text')
            chars += e.text.length
        }
      }
      catch {}
      return chars
    }
    const [slow, quick] = await Promise.all([countIn(50, 300), countIn(2000, 300)])
    expect(quick).toBeGreaterThan(slow * 4)
  })
})

describe('provider registry', () => {
  it('routes model keys to their upstream and slug, and marks the demo', () => {
    const cfg = parseConfig({
      upstreams: [
        { id: 'd1', type: 'demo', models: [{ key: 'fast-demo', name: 'Fast demo', slug: 'demo-fast' }] },
        { id: 'd2', type: 'demo', models: [{ key: 'other', name: 'Other', slug: 'o' }] },
      ],
    })
    const reg = createUpstreams(effectiveUpstreams(cfg), { now: () => new Date(), maxDepth: () => 10, maxWaitSeconds: () => 60 })
    const route = reg.route('fast-demo')
    expect(route?.slug).toBe('demo-fast')
    expect(route?.upstream.id).toBe('d1')
    expect(route?.pool).toBe(reg.pool('d1'))
    expect(reg.route('nope')).toBeUndefined()
    expect(reg.models().map(m => [m.key, m.upstreamId, m.demo])).toEqual([['fast-demo', 'd1', true], ['other', 'd2', true]])
    const before = reg.provider('d2')
    reg.reload([effectiveUpstreams(cfg)[1]!])
    expect(reg.provider('d1')).toBeUndefined()
    expect(reg.provider('d2')).toBe(before)
  })

  it('the app uses the demo upstream when none is configured', async () => {
    const t = await buildTestApp()
    try {
      expect(t.app.upstreams.models()).toEqual([{ key: 'demo', name: 'Demo (offline)', upstreamId: 'demo', upstreamType: 'demo', demo: true }])
      expect(t.app.upstreams.route('demo')?.pool.accounts[0]?.provider.type).toBe('demo')
    }
    finally {
      await t.close()
    }
  })
})
