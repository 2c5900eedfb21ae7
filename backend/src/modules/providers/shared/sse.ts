import type { EventSourceMessage } from 'eventsource-parser'
import { createParser } from 'eventsource-parser'

/**
 * Server-sent events from a byte stream. Bytes are decoded with a streaming UTF-8 decoder (a character
 * split across chunks stays whole) and framed by eventsource-parser (LF, CR and CRLF line endings).
 */
export async function* readSse(body: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = []
  const parser = createParser({ onEvent: e => queue.push(e) })
  const decoder = new TextDecoder('utf-8')
  for await (const chunk of body) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))
    while (queue.length)
      yield queue.shift()!
  }
  parser.feed(decoder.decode())
  parser.feed('\n\n')
  while (queue.length)
    yield queue.shift()!
}
