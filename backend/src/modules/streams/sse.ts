/**
 * Server-sent events over a hijacked Node response, with backpressure and keep-alive.
 *
 * Writes: the events of one turn of the event loop are joined into one string and written once
 * (one HTTP chunk, one syscall), at the end of the turn; the headers leave with the first events.
 *
 * Backpressure: when the socket's buffer is full (`write` returned false) nothing more is written
 * until 'drain'. Meanwhile events are held, and consecutive `delta` events are merged into one, so
 * what a slow reader costs is at most the answer text (which the server keeps anyway), never a
 * growing pile of small writes; and the upstream is still read at full speed, so a slow reader
 * neither holds its queue slot longer nor slows any other stream.
 *
 * Coalescing (`coalesceMs`): text is written at once when nothing was written for `coalesceMs`
 * (so the first token never waits), else held and written, merged, when that time is up or with the
 * next other event. Upstreams send a token or two per chunk; a reader cannot tell 20 updates a
 * second from 100, but the server does one socket write (a syscall and a TCP segment) instead of
 * five. No text is ever delayed by more than `coalesceMs`.
 *
 * Stalled readers (`stallMs`): a reader whose socket buffer stays full that long has stopped
 * reading (a frozen tab, a dead connection the kernel still holds): its connection is closed, so
 * it stops holding memory and the ask goes on detached (the grace applies).
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import process from 'node:process'

export interface SseOptions {
  /** A `: ping` comment is sent after this long without any other write. */
  pingMs: number
  /** Hold `delta` text for up to this long to write it in fewer, larger pieces (0: write each at once). */
  coalesceMs?: number
  /** Close the connection of a reader whose socket stayed full this long (0 or absent: never). */
  stallMs?: number
}

interface Held { event: string, data: unknown, id?: string }

export class SseStream {
  private stalled = false
  /** While blocked: the events not yet written (consecutive deltas merged). */
  private held: Held[] = []
  /** Frames of this turn, written together at its end. */
  private out = ''
  private flushScheduled = false
  private ping: ReturnType<typeof setTimeout> | undefined
  private stallTimer: ReturnType<typeof setTimeout> | undefined
  private ended = false
  /** Delta text held by coalescing, and when it must be written. */
  private pendingText = ''
  private pendingTimer: ReturnType<typeof setTimeout> | undefined
  /** The id of the newest held delta (a merged frame carries the id of its last part). */
  private pendingId: string | undefined
  private lastDeltaAt = -Infinity
  private readonly closeListeners: Array<() => void> = []
  private readonly drainListeners: Array<() => void> = []

  constructor(private readonly res: ServerResponse, private readonly opts: SseOptions) {
    res.on('close', () => {
      clearTimeout(this.ping)
      clearTimeout(this.pendingTimer)
      clearTimeout(this.stallTimer)
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

  /** True while the socket's buffer is full: what is sent now is held until it drains. */
  get blocked(): boolean {
    return this.stalled
  }

  /** Called after the socket drained and what was held went out. */
  onDrain(fn: () => void): void {
    this.drainListeners.push(fn)
  }

  /** Called once if the client goes away before we end the stream. */
  onClientClose(fn: () => void): void {
    this.closeListeners.push(fn)
  }

  /** Prepares the headers (sent with the first events); `headers` (e.g. the security headers Fastify prepared) come first. */
  open(headers: OutgoingHttpHeaders = {}): void {
    this.res.writeHead(200, {
      ...headers,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'Connection': 'keep-alive',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    })
    this.ping = setTimeout(() => this.onPing(), this.opts.pingMs)
    this.ping.unref?.()
  }

  /** Sends an event; `id` becomes the frame's `id:` (the cursor a reader resumes from). */
  send(event: string, data: unknown, id?: string): void {
    if (this.ended)
      return
    const coalesceMs = this.opts.coalesceMs ?? 0
    if (event === 'delta' && coalesceMs > 0) {
      const now = performance.now()
      if (this.pendingTimer === undefined && now - this.lastDeltaAt >= coalesceMs) {
        this.lastDeltaAt = now
        this.enqueue(event, data, id)
        return
      }
      this.pendingText += (data as { text: string }).text
      this.pendingId = id
      if (this.pendingTimer === undefined)
        this.pendingTimer = setTimeout(() => this.flushText(), Math.max(1, coalesceMs - (now - this.lastDeltaAt)))
      return
    }
    this.flushText()
    this.enqueue(event, data, id)
  }

  /** Writes the delta text held by coalescing now (with the frames of this turn). */
  flushNow(): void {
    this.flushText()
  }

  /** Writes what is held and ends the response. */
  end(): void {
    if (this.ended)
      return
    this.flushText()
    this.ended = true
    clearTimeout(this.ping)
    const rest = this.out + this.held.map(h => frame(h.event, h.data, h.id)).join('')
    this.out = ''
    this.held = []
    this.res.end(rest || undefined)
  }

  /** Sends the held delta text now (before any other event, so the order is kept). */
  private flushText(): void {
    if (this.pendingTimer === undefined)
      return
    clearTimeout(this.pendingTimer)
    this.pendingTimer = undefined
    const text = this.pendingText
    const id = this.pendingId
    this.pendingText = ''
    this.pendingId = undefined
    this.lastDeltaAt = performance.now()
    if (!this.ended)
      this.enqueue('delta', { text }, id)
  }

  private enqueue(event: string, data: unknown, id?: string): void {
    if (this.stalled) {
      const last = this.held.at(-1)
      if (event === 'delta' && last?.event === 'delta') {
        (last.data as { text: string }).text += (data as { text: string }).text
        last.id = id
      }
      else {
        this.held.push({ event, data: event === 'delta' ? { ...(data as object) } : data, id })
      }
      return
    }
    this.out += frame(event, data, id)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      process.nextTick(() => this.flush())
    }
  }

  private flush(): void {
    this.flushScheduled = false
    if (this.ended || !this.out)
      return
    const chunk = this.out
    this.out = ''
    this.write(chunk)
  }

  private write(chunk: string): void {
    const ok = this.res.write(chunk)
    this.ping?.refresh()
    if (!ok) {
      this.stalled = true
      this.res.once('drain', () => this.drained())
      if (this.opts.stallMs && !this.stallTimer) {
        this.stallTimer = setTimeout(() => this.res.destroy(), this.opts.stallMs)
        this.stallTimer.unref?.()
      }
    }
  }

  private drained(): void {
    this.stalled = false
    clearTimeout(this.stallTimer)
    this.stallTimer = undefined
    if (this.ended)
      return
    if (this.held.length) {
      const chunk = this.held.map(h => frame(h.event, h.data, h.id)).join('')
      this.held = []
      this.write(chunk)
    }
    if (!this.stalled) {
      for (const l of this.drainListeners) l()
    }
  }

  private onPing(): void {
    if (this.ended)
      return
    if (!this.stalled)
      this.write(': ping\n\n')
    else
      this.ping?.refresh()
  }
}

function frame(event: string, data: unknown, id?: string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}
