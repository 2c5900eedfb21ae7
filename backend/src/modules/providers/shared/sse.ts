import type { EventSourceMessage } from 'eventsource-parser'
import { createParser } from 'eventsource-parser'

export interface ReadSseOptions {
  /** The event that ends the stream (e.g. `data: [DONE]`). */
  isLast?: (e: EventSourceMessage) => boolean
  /** After the last event, how long to wait for the body to end before closing it (ms). */
  drainMs?: number
}

type Chunk = Uint8Array | string

/**
 * Server-sent events from a byte stream. Bytes are decoded with a streaming UTF-8 decoder (a character
 * split across chunks stays whole) and framed by eventsource-parser (LF, CR and CRLF line endings).
 *
 * When the last event arrives, the rest of the body is read (briefly) before it is yielded, so the
 * connection goes back to the pool instead of being torn down. Stopping early closes the body.
 */
export async function* readSse(body: AsyncIterable<Chunk> | Iterable<Chunk>, opts: ReadSseOptions = {}): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = []
  const parser = createParser({ onEvent: e => queue.push(e) })
  const decoder = new TextDecoder('utf-8')
  const it: AsyncIterator<Chunk> | Iterator<Chunk> = Symbol.asyncIterator in body ? body[Symbol.asyncIterator]() : body[Symbol.iterator]()
  let finished = false

  async function drain(): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, opts.drainMs ?? 1000, 'timeout')
    })
    try {
      while (true) {
        const r = await Promise.race([it.next(), timeout])
        if (r === 'timeout' || r.done)
          return
      }
    }
    finally {
      clearTimeout(timer)
    }
  }

  try {
    while (true) {
      const r = await it.next()
      if (r.done)
        break
      parser.feed(typeof r.value === 'string' ? r.value : decoder.decode(r.value, { stream: true }))
      while (queue.length) {
        const e = queue.shift()!
        if (opts.isLast?.(e)) {
          await drain()
          finished = true
          yield e
          return
        }
        yield e
      }
    }
    finished = true
    parser.feed(decoder.decode())
    parser.feed('\n\n')
    while (queue.length)
      yield queue.shift()!
  }
  finally {
    if (!finished)
      await it.return?.()
  }
}
