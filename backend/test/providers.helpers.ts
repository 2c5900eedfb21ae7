import type { AskInput, Provider, ProviderEvent } from '../src/modules/providers/types.js'

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
  return { events, text: events.map(e => (e.type === 'text' ? e.text : '')).join(''), error }
}

/** Every string that must never show in an error message or health reason. */
export function expectNoSecrets(text: string, secrets: string[]): void {
  for (const s of [...secrets, 'owner@example.com', 'eyJhbGciOiJIUzI1NiJ9']) {
    if (text.includes(s))
      throw new Error(`secret leaked: ${JSON.stringify(s)} in ${JSON.stringify(text)}`)
  }
}
