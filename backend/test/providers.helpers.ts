import type { AskInput, Provider, ProviderEvent } from '../src/modules/providers/types.js'
import type { FakeUpstream } from './fake-upstream/server.js'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { startFakeUpstream } from './fake-upstream/server.js'

export interface AskResult {
  events: ProviderEvent[]
  text: string
  error?: any
}

/** Runs one ask to the end, keeping what was yielded before a failure (as the chat engine does). */
export async function runAsk(p: Provider, input: Partial<AskInput> & { signal?: AbortSignal }, onEvent?: (e: ProviderEvent, events: ProviderEvent[]) => void): Promise<AskResult> {
  const events: ProviderEvent[] = []
  let error: unknown
  try {
    for await (const e of p.ask({ slug: 'gpt-4o', content: 'Hello there', signal: new AbortController().signal, ...input })) {
      events.push(e)
      onEvent?.(e, events)
    }
  }
  catch (err) {
    error = err
  }
  return { events, text: textOf(events), error }
}

/** The answer's text: every `text` event, joined. */
export function textOf(events: ProviderEvent[]): string {
  return events.map(e => (e.type === 'text' ? e.text : '')).join('')
}

/**
 * One fake upstream for the calling test file: started before its tests (handed to `started`), reset
 * to its starting knobs before each test, closed after them all.
 */
export function useFakeUpstream(started: (fake: FakeUpstream) => void): void {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startFakeUpstream()
    started(fake)
  })
  beforeEach(() => fake.reset())
  afterAll(async () => {
    await fake.close()
  })
}

/** Every string that must never show in an error message or health reason. */
export function expectNoSecrets(text: string, secrets: string[]): void {
  for (const s of [...secrets, 'owner@example.com', 'eyJhbGciOiJIUzI1NiJ9']) {
    if (text.includes(s))
      throw new Error(`secret leaked: ${JSON.stringify(s)} in ${JSON.stringify(text)}`)
  }
}
