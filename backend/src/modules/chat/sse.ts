/**
 * Server-sent events over a hijacked Node response, with backpressure and keep-alive.
 *
 * Backpressure: when the socket's buffer is full (`write` returned false) nothing more is written
 * until 'drain'. Meanwhile events are held, and consecutive `delta` events are merged into one, so
 * what a slow reader costs is at most the answer text (which the server keeps anyway), never a
 * growing pile of small writes; and the upstream is still read at full speed, so a slow reader
 * neither holds its queue slot longer nor slows any other stream.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'

export interface SseOptions {
  /** A `: ping` comment is sent after this long without any other write. */
  pingMs: number
}

interface Held { event: string, data: unknown }

export class SseStream {
  private blocked = false
  private held: Held[] = []
  private ping: ReturnType<typeof setTimeout> | undefined
  private ended = false
  private corked = false
  private readonly closeListeners: Array<() => void> = []

  constructor(private readonly res: ServerResponse, private readonly opts: SseOptions) {
    res.on('close', () => {
      clearTimeout(this.ping)
      if (!this.ended) {
        this.ended = true
        for (const l of this.closeListeners) l()
      }
    })
  }

  /** True once the stream ended, by us or by the client going away. */
  get closed(): boolean {
    return this.ended
  }

  /** Called once if the client goes away before we end the stream. */
  onClientClose(fn: () => void): void {
    this.closeListeners.push(fn)
  }

  /** Sends the headers; `headers` (e.g. the security headers Fastify prepared) come first. */
  open(headers: OutgoingHttpHeaders = {}): void {
    this.res.writeHead(200, {
      ...headers,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'Connection': 'keep-alive',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    })
    // The headers and the first events (`accepted`, `queued`/`started`) leave in one write at the
    // end of this turn of the event loop, not one write (and syscall) each.
    this.res.cork()
    this.corked = true
    setImmediate(() => this.uncork())
    this.ping = setTimeout(() => this.onPing(), this.opts.pingMs)
    this.ping.unref?.()
  }

  send(event: string, data: unknown): void {
    if (this.ended)
      return
    if (this.blocked) {
      const last = this.held.at(-1)
      if (event === 'delta' && last?.event === 'delta')
        (last.data as { text: string }).text += (data as { text: string }).text
      else
        this.held.push({ event, data: event === 'delta' ? { ...(data as object) } : data })
      return
    }
    this.write(frame(event, data))
  }

  /** Writes what is held and ends the response. */
  end(): void {
    if (this.ended)
      return
    this.ended = true
    clearTimeout(this.ping)
    const rest = this.held.map(h => frame(h.event, h.data)).join('')
    this.held = []
    this.corked = false // end() writes what is corked
    this.res.end(rest || undefined)
  }

  private uncork(): void {
    if (!this.corked)
      return
    this.corked = false
    this.res.uncork()
  }

  private write(chunk: string): void {
    const ok = this.res.write(chunk)
    this.ping?.refresh()
    if (!ok) {
      this.blocked = true
      this.res.once('drain', () => this.onDrain())
    }
  }

  private onDrain(): void {
    this.blocked = false
    if (this.ended || !this.held.length)
      return
    const chunk = this.held.map(h => frame(h.event, h.data)).join('')
    this.held = []
    this.write(chunk)
  }

  private onPing(): void {
    if (this.ended)
      return
    if (!this.blocked)
      this.write(': ping\n\n')
    else
      this.ping?.refresh()
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}
