import type { ServerResponse } from 'node:http'
import type { FakeKnobs } from './knobs.js'

/**
 * Writes server-sent events the way the knobs say: LF or CRLF framing, and optionally each event in
 * several TCP writes cut inside the field name, inside a multi-byte character and between the two
 * line breaks that end the event.
 */
export class SseWriter {
  constructor(private readonly res: ServerResponse, private readonly k: FakeKnobs) {}

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded
  }

  sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms))
  }

  async raw(text: string): Promise<void> {
    if (this.closed)
      return
    const framed = this.k.crlf ? text.replace(/\r?\n/g, '\r\n') : text
    const bytes = Buffer.from(framed, 'utf8')
    if (!this.k.split || bytes.length < 8) {
      this.res.write(bytes)
      return
    }
    const cuts = new Set<number>([3, bytes.length - 1])
    const firstMultiByte = bytes.findIndex(b => b >= 0xC0)
    if (firstMultiByte > 0)
      cuts.add(firstMultiByte + 1)
    let at = 0
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      if (cut <= at || cut >= bytes.length)
        continue
      this.res.write(bytes.subarray(at, cut))
      at = cut
      await this.sleep(2)
      if (this.closed)
        return
    }
    this.res.write(bytes.subarray(at))
  }

  data(obj: unknown): Promise<void> {
    return this.raw(`data: ${JSON.stringify(obj)}\n\n`)
  }

  event(name: string, obj: unknown): Promise<void> {
    return this.raw(`event: ${name}\ndata: ${JSON.stringify(obj)}\n\n`)
  }

  comment(text: string): Promise<void> {
    return this.raw(`: ${text}\n\n`)
  }

  async done(): Promise<void> {
    await this.raw('data: [DONE]\n\n')
    if (!this.closed)
      this.res.end()
  }

  /**
   * Before piece `i` of an answer: cuts the stream where the knobs say (reset, stall, a clean end,
   * or `errorEvent` then `[DONE]`), else waits the gap between pieces. False when the stream stops here.
   */
  async beforePiece(i: number, errorEvent: unknown): Promise<boolean> {
    const k = this.k
    if (i === k.resetAfter) {
      this.reset()
      return false
    }
    if (i === k.stallAfter)
      return false
    if (i === k.endAfter) {
      this.end()
      return false
    }
    if (i === k.errorAfter) {
      await this.data(errorEvent)
      await this.done()
      return false
    }
    if (i > 0)
      await this.sleep(k.gapMs)
    return !this.closed
  }

  /** Ends the response cleanly, whatever was sent. */
  end(): void {
    if (!this.closed)
      this.res.end()
  }

  /** Resets the TCP connection mid-stream. */
  reset(): void {
    const socket = this.res.socket
    if (socket && typeof socket.resetAndDestroy === 'function')
      socket.resetAndDestroy()
    else socket?.destroy()
  }
}
