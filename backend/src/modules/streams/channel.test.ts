import type { ChannelSink } from './channel.js'
import { describe, expect, it } from 'vitest'
import { AskChannel } from './channel.js'

/** A sink that records what it was sent; `blocked` can be flipped like a full socket. */
class Recorder implements ChannelSink {
  frames: Array<{ event: string, data: any, id: string }> = []
  blocked = false
  closed = false
  private drain: Array<() => void> = []
  private close: Array<() => void> = []
  send(event: string, data: unknown, id: string) {
    this.frames.push({ event, data, id })
  }

  flushNow() {}

  end() {
    this.closed = true
  }

  onDrain(fn: () => void) {
    this.drain.push(fn)
  }

  onClientClose(fn: () => void) {
    this.close.push(fn)
  }

  unblock() {
    this.blocked = false
    for (const f of this.drain) f()
  }

  goAway() {
    for (const f of this.close) f()
  }

  get text() {
    return this.frames.filter(f => f.event === 'delta').map(f => f.data.text).join('')
  }

  get names() {
    return this.frames.map(f => f.event)
  }
}

function run(ch: AskChannel, pieces: string[]) {
  ch.publish('accepted', { requestId: 'r' })
  ch.publish('queued', { position: 2, etaSeconds: 10 })
  ch.publish('queued', { position: 1, etaSeconds: 5 })
  ch.publish('started', {})
  pieces.forEach((p, i) => {
    ch.publish('delta', { text: p })
    if (i === 3)
      ch.publish('title', { title: 'T' })
  })
}

describe('ask channel', () => {
  const pieces = ['Hel', 'lo', ', ', 'wor', 'ld', ' — ', '你好', '!']

  it('resuming from the id of any frame gives exactly the rest, in order', () => {
    const ch = new AskChannel()
    const live = new Recorder()
    ch.attach(live, '0.0')
    run(ch, pieces)
    ch.publish('done', { finishReason: 'stop' })
    expect(live.text).toBe(pieces.join(''))
    for (let i = 0; i < live.frames.length; i++) {
      const rest = ch.replay(live.frames[i]!.id)
      const seen = live.frames.slice(0, i + 1)
      const joined = [...seen, ...rest].filter(f => f.event !== 'queued')
      const shape = (fs: typeof joined) => fs.map(f => f.event).filter((e, j, all) => e !== 'delta' || all[j - 1] !== 'delta')
      expect(shape(joined)).toEqual(shape(live.frames.filter(f => f.event !== 'queued')))
      expect(joined.filter(f => f.event === 'delta').map(f => f.data.text).join('')).toBe(pieces.join(''))
      expect(joined.filter(f => f.event === 'title')).toHaveLength(1)
    }
  })

  it('a snapshot is accepted, started, the text so far in one delta, then the current queue place while waiting', () => {
    const ch = new AskChannel()
    ch.publish('accepted', { requestId: 'r' })
    ch.publish('queued', { position: 3, etaSeconds: 30 })
    ch.publish('queued', { position: 2, etaSeconds: 20 })
    expect(ch.replay(null).map(f => [f.event, f.data])).toEqual([['accepted', { requestId: 'r' }], ['queued', { position: 2, etaSeconds: 20 }]])
    ch.publish('started', {})
    ch.publish('delta', { text: 'ab' })
    ch.publish('delta', { text: 'cd' })
    expect(ch.replay(null).map(f => f.event)).toEqual(['accepted', 'started', 'delta'])
    expect(ch.replay(null)[2]!.data).toEqual({ text: 'abcd' })
    expect(ch.replay('garbage').map(f => f.event)).toEqual(['accepted', 'started', 'delta'])
  })

  it('continue: the asker is not sent the old text again, a snapshot includes it', () => {
    const ch = new AskChannel()
    ch.setBase('Old text. ')
    const asker = new Recorder()
    ch.publish('accepted', { requestId: 'r' })
    ch.attach(asker, ch.askerCursor())
    ch.publish('started', {})
    ch.publish('delta', { text: 'New.' })
    expect(asker.text).toBe('New.')
    const snap = new Recorder()
    ch.attach(snap, null)
    expect(snap.names).toEqual(['accepted', 'started', 'delta'])
    expect(snap.text).toBe('Old text. New.')
    const cursor = snap.frames.at(-1)!.id
    ch.publish('delta', { text: ' More.' })
    expect(ch.replay(cursor).map(f => (f.data as { text: string }).text).join('')).toBe(' More.')
    ch.publish('done', { finishReason: 'stop' })
    expect(snap.text).toBe('Old text. New. More.')
  })

  it('a listener whose socket is full is skipped, then sent what it missed in one piece; nothing is queued for it', () => {
    const ch = new AskChannel()
    const slow = new Recorder()
    const fast = new Recorder()
    ch.attach(slow, '0.0')
    ch.attach(fast, '0.0')
    run(ch, pieces.slice(0, 2))
    slow.blocked = true
    for (const p of pieces.slice(2)) ch.publish('delta', { text: p })
    ch.publish('title', { title: 'T' })
    const sentBefore = slow.frames.length
    slow.unblock()
    expect(slow.frames.slice(sentBefore).map(f => f.event)).toEqual(['delta', 'title']) // one delta with all it missed
    expect(slow.text).toBe(pieces.join(''))
    expect(fast.text).toBe(pieces.join(''))
  })

  it('counts listeners as they come and go; a finished channel ends new listeners after the replay', () => {
    const counts: number[] = []
    const ch = new AskChannel({ onListeners: n => counts.push(n) })
    const a = new Recorder()
    const b = new Recorder()
    ch.attach(a, null)
    ch.attach(b, null)
    a.goAway()
    b.goAway()
    expect(counts).toEqual([1, 2, 1, 0])
    run(ch, ['x'])
    ch.publish('error', { code: 'INTERRUPTED', message: 'm' })
    const late = new Recorder()
    ch.attach(late, null)
    expect(late.closed).toBe(true)
    expect(late.names).toEqual(['accepted', 'started', 'delta', 'error'])
    expect(late.text).toBe('x')
  })
})
