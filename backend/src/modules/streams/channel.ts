/**
 * The event channel of one ask: fan-out to any number of listeners, replay, event ids.
 * See docs/architecture.md, "The stream protocol".
 *
 * What it keeps (the replay) is the answer's text so far plus a short list of the other events
 * (accepted, started, title, done/error: a handful per ask, bounded by `maxEvents`), each with the
 * text length at which it happened. Queue positions are not kept: only the current one.
 *
 * Cursor (the SSE `id:`): `<k>.<L>` = "the first k kept events and the first L characters of the
 * text have been delivered". From any cursor the rest is rebuilt exactly, in order, from the text
 * and the kept events, so nothing is kept per delta and nothing per listener.
 *
 * Listeners: each is a sink (an SseStream) plus its cursor. A listener whose socket is full is
 * skipped (nothing is queued for it); when it drains, it is sent what it missed from its cursor, in
 * one piece. So a slow reader costs nothing but its cursor, and never slows the others.
 */

export interface ChannelSink {
  send: (event: string, data: unknown, id: string) => void
  /** Writes text held back for coalescing now (a replay is already late; nothing of it should wait). */
  flushNow: () => void
  end: () => void
  readonly blocked: boolean
  readonly closed: boolean
  onDrain: (fn: () => void) => void
  onClientClose: (fn: () => void) => void
}

export interface Frame { event: string, data: unknown, id: string }

interface Kept { event: string, data: unknown, at: number }

interface Listener { sink: ChannelSink, cursor: string, behind: boolean }

export interface ChannelOptions {
  /** Called when the number of listeners changes (the run registry starts or clears the detach grace). */
  onListeners?: (count: number) => void
  /** Kept events at most; later non-final ones still go to live listeners but are not replayed. */
  maxEvents?: number
}

const TERMINAL = new Set(['done', 'error'])

export class AskChannel {
  private text = ''
  /** Length of the text the answer already had (`continue`): delivered to live listeners before they joined. */
  private base = 0
  private readonly kept: Kept[] = []
  private queued: unknown
  private ended = false
  private readonly listeners = new Set<Listener>()

  constructor(private readonly opts: ChannelOptions = {}) {}

  /** `continue`: the text the answer had before this ask; snapshots include it. */
  setBase(text: string): void {
    this.text = text
    this.base = text.length
  }

  get listenerCount(): number {
    return this.listeners.size
  }

  /**
   * Where the asker's own stream (`POST /api/chat`) starts: every event from `accepted` on, but not
   * the text a `continue` answer already had (the asker shows it already).
   */
  askerCursor(): string {
    return `0.${this.base}`
  }

  private cursor(): string {
    return `${this.kept.length}.${this.text.length}`
  }

  publish(event: string, data: unknown): void {
    if (this.ended)
      return
    if (event === 'delta') {
      const piece = (data as { text: string }).text
      if (!piece)
        return
      this.text += piece
    }
    else if (event === 'queued') {
      this.queued = data
    }
    else {
      if (event === 'started')
        this.queued = undefined
      if (this.kept.length < (this.opts.maxEvents ?? 1000) || TERMINAL.has(event))
        this.kept.push({ event, data, at: this.text.length })
    }
    const id = this.cursor()
    for (const l of this.listeners) {
      if (l.behind || l.sink.blocked) {
        l.behind = true
        continue
      }
      l.sink.send(event, data, id)
      l.cursor = id
    }
    if (TERMINAL.has(event)) {
      this.ended = true
      for (const l of [...this.listeners]) this.endListener(l)
    }
  }

  /**
   * What comes after `after` (a cursor this channel gave out), or the whole state so far when
   * `after` is null or unknown (a snapshot: the events so far with `accepted` first, then the text
   * in one delta; its ids are cursors like any other).
   */
  replay(after: string | null): Frame[] {
    let k = 0
    let pos = 0
    const parsed = after === null ? null : parseCursor(after)
    const c = parsed && parsed.k <= this.kept.length && parsed.l <= this.text.length ? parsed : null
    if (c) {
      k = c.k
      pos = c.l
    }
    const out: Frame[] = []
    if (!c) {
      // A snapshot: the events so far, then all the text in one piece, then the end if any.
      const body = this.kept.filter(e => !TERMINAL.has(e.event))
      body.forEach((e, i) => out.push({ event: e.event, data: e.data, id: `${i + 1}.0` }))
      if (this.text)
        out.push({ event: 'delta', data: { text: this.text }, id: `${body.length}.${this.text.length}` })
      for (const e of this.kept.filter(e => TERMINAL.has(e.event)))
        out.push({ event: e.event, data: e.data, id: `${this.kept.length}.${this.text.length}` })
      if (!this.ended && this.queued !== undefined)
        out.push({ event: 'queued', data: this.queued, id: `${body.length}.${this.text.length}` })
      return out
    }
    for (let i = k; i < this.kept.length; i++) {
      const e = this.kept[i]!
      // Events before any new text of a `continue` belong before the old text too.
      if (e.at > pos && e.at > this.base) {
        out.push({ event: 'delta', data: { text: this.text.slice(pos, e.at) }, id: `${i}.${e.at}` })
        pos = e.at
      }
      out.push({ event: e.event, data: e.data, id: `${i + 1}.${pos}` })
    }
    if (!this.ended && this.text.length > pos)
      out.push({ event: 'delta', data: { text: this.text.slice(pos) }, id: this.cursor() })
    if (!this.ended && this.queued !== undefined)
      out.push({ event: 'queued', data: this.queued, id: this.cursor() })
    return out
  }

  /** Adds a listener: it is sent the replay from `after` (null: a snapshot), then every new event. */
  attach(sink: ChannelSink, after: string | null): void {
    const l: Listener = { sink, cursor: after ?? '0.0', behind: false }
    this.sendReplay(l, after)
    if (this.ended) {
      sink.end()
      return
    }
    this.listeners.add(l)
    sink.onDrain(() => {
      if (l.behind && this.listeners.has(l))
        this.sendReplay(l, l.cursor)
    })
    sink.onClientClose(() => this.detach(l))
    this.opts.onListeners?.(this.listeners.size)
  }

  /** Removes a listener without ending its stream (the caller ends it, e.g. with its own final event). */
  drop(sink: ChannelSink): void {
    for (const l of this.listeners) {
      if (l.sink === sink)
        this.detach(l)
    }
  }

  /** Ends every listener's stream (the ask ended without a final event, e.g. a stop with nobody left). */
  close(): void {
    this.ended = true
    for (const l of [...this.listeners]) this.endListener(l)
  }

  private sendReplay(l: Listener, after: string | null): void {
    l.behind = false
    for (const f of this.replay(after)) {
      l.sink.send(f.event, f.data, f.id)
      l.cursor = f.id
    }
    l.sink.flushNow()
  }

  private endListener(l: Listener): void {
    if (l.behind)
      this.sendReplay(l, l.cursor)
    this.listeners.delete(l)
    l.sink.end()
  }

  private detach(l: Listener): void {
    if (this.listeners.delete(l))
      this.opts.onListeners?.(this.listeners.size)
  }
}

function parseCursor(s: string): { k: number, l: number } | null {
  const m = /^(\d{1,9})\.(\d{1,12})$/.exec(s)
  return m ? { k: Number(m[1]), l: Number(m[2]) } : null
}
