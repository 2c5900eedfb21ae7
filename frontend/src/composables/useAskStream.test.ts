import type { AnswerTarget, AskEnd } from './useAskStream'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { reactive } from 'vue'
import { fakeChat, frame } from '../api/chat.fake'
import { ApiError } from '../api/http'
import { RECONNECT_MAX_MS, reconnectDelay } from './retryWait'
import { STALL_MS, STOP_WAIT_MS, useAskStream } from './useAskStream'

vi.mock('../api/chat', async () => (await import('../api/chat.fake')).fakeChat.api)

const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms)
/** Long enough for an animation frame. */
const nextFrame = () => tick(20)
const netError = () => new ApiError({ code: 'NETWORK_ERROR', status: 0, message: 'Failed to fetch' })
const body = { model: 'demo', content: 'q', action: 'next' as const }

function answer(content = ''): AnswerTarget {
  return reactive({ content, status: 'streaming', finishReason: null, errorCode: null })
}

/** Starts a POST ask and returns its stream, its answer and its end (settled later). */
function sending(a = answer()) {
  const stream = useAskStream(a, {})
  let end: AskEnd | null = null
  const run = stream.send(body).then(e => (end = e))
  return { stream, a, run, ended: () => end }
}

beforeEach(() => {
  vi.useFakeTimers()
  fakeChat.reset()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('useAskStream: one ask, sent', () => {
  it('goes sending → queued → started → streaming → ended, the text written once per frame', async () => {
    const { stream, a, run } = sending()
    expect(stream.state).toBe('sending')
    const post = fakeChat.last()
    expect(post.kind).toBe('ask')
    post.send(frame.accepted(), frame.queued(2, 30))
    expect([stream.state, stream.queue, stream.requestId]).toEqual(['queued', { position: 2, etaSeconds: 30 }, 'r1'])
    post.send(frame.started(), frame.delta('Hel', '2.3'), frame.delta('lo', '2.5'))
    expect([stream.state, stream.queue]).toEqual(['streaming', null])
    expect(a.content).toBe('')
    await nextFrame()
    expect(a.content).toBe('Hello')
    post.end(frame.done('stop', '3.5'))
    await run
    expect([stream.state, a.status, a.finishReason, a.content, stream.lastEventId]).toEqual(['ended', 'done', 'stop', 'Hello', '3.5'])
  })

  it('back in line after started when the upstream refused before any output (the accounts cooling down), then answered', async () => {
    const { stream, a, run } = sending()
    const post = fakeChat.last()
    post.send(frame.accepted(), frame.started(), { event: 'queued', id: '2.0', data: { position: 1, etaSeconds: 720, waitingFor: 'cooling' } })
    expect([stream.state, stream.queue]).toEqual(['queued', { position: 1, etaSeconds: 720, waitingFor: 'cooling' }])
    post.send(frame.started('3.0'), frame.delta('Hi', '3.2'), frame.queued(1, 5, '3.2'))
    // Once text came, a stray queued frame changes nothing.
    expect([stream.state, stream.queue]).toEqual(['streaming', null])
    post.end(frame.done('stop', '4.2'))
    await run
    expect([a.status, a.content]).toEqual(['done', 'Hi'])
  })

  it('an error event ends it with its code; INTERRUPTED keeps the partial answer as interrupted', async () => {
    const first = sending()
    fakeChat.last().send(frame.accepted(), frame.delta('Part', '1.4'))
    fakeChat.last().end(frame.error('UPSTREAM_RATE_LIMITED'))
    await first.run
    expect([first.a.status, first.a.errorCode, first.a.content]).toEqual(['error', 'UPSTREAM_RATE_LIMITED', 'Part'])

    const second = sending()
    fakeChat.last().send(frame.accepted(), frame.delta('Half', '1.4'))
    fakeChat.last().end(frame.error('INTERRUPTED'))
    await second.run
    expect([second.a.status, second.a.errorCode, second.a.content]).toEqual(['interrupted', 'INTERRUPTED', 'Half'])
  })

  it('a SESSION_ENDED error ends only this page\'s stream (the ask goes on): the answer is not marked failed', async () => {
    const { stream, a, run, ended } = sending()
    fakeChat.last().send(frame.accepted(), frame.delta('Part', '1.4'))
    fakeChat.last().end(frame.error('SESSION_ENDED'))
    await run
    expect(ended()).toMatchObject({ kind: 'lost', error: { code: 'SESSION_ENDED' } })
    expect([stream.state, a.status, a.errorCode, a.content]).toEqual(['ended', 'interrupted', 'SESSION_ENDED', 'Part'])
    await tick(60_000)
    expect(fakeChat.connections).toHaveLength(1)
  })

  it('a refusal before accepted ends it as refused and leaves the answer alone; nothing to follow', async () => {
    const { a, run, ended } = sending()
    fakeChat.last().fail(new ApiError({ code: 'QUEUE_FULL', status: 503, message: 'busy' }))
    await run
    expect(ended()).toMatchObject({ kind: 'refused', error: { code: 'QUEUE_FULL' } })
    expect(a.status).toBe('streaming')
    await tick(60_000)
    expect(fakeChat.connections).toHaveLength(1)
  })
})

describe('useAskStream: the connection drops', () => {
  it('re-attaches with the last event id after a mid-stream drop, and the text is not doubled', async () => {
    const { stream, a, run } = sending()
    fakeChat.last().send(frame.accepted(), frame.started(), frame.delta('Once upon', '2.9'))
    fakeChat.last().fail(netError())
    await tick()
    expect(stream.reconnecting).toBe(true)
    expect(stream.state).toBe('streaming')
    expect(a.status).toBe('streaming')
    await tick(reconnectDelay(0))
    const again = fakeChat.last()
    expect([fakeChat.connections.length, again.kind, again.requestId, again.lastEventId]).toEqual([2, 'attach', 'r1', '2.9'])
    again.send(frame.delta(' a time', '2.16'))
    expect(stream.reconnecting).toBe(false)
    again.end(frame.done('stop', '3.16'))
    await run
    expect(a.content).toBe('Once upon a time')
    expect(a.status).toBe('done')
  })

  it('a stream that begins with accepted is a snapshot: its text replaces the answer\'s', async () => {
    const { a, run } = sending(answer('Before. '))
    fakeChat.last().send(frame.accepted(), frame.started(), frame.delta('Once', '2.4'))
    fakeChat.last().fail(new ApiError({ code: 'STREAM_INTERRUPTED', status: 200, message: 'cut' }))
    await tick(reconnectDelay(0))
    // The server no longer knew the cursor: the whole text so far (for `continue`: with what was there before).
    const again = fakeChat.last()
    again.send(frame.accepted('1.0'), frame.started(), frame.delta('Before. Once upon', '2.17'), frame.delta(' a time', '2.24'))
    await nextFrame()
    expect(a.content).toBe('Before. Once upon a time')
    again.end(frame.done())
    await run
    expect(a.content).toBe('Before. Once upon a time')
  })

  it('waits 0.5 s, 1 s, 2 s … up to 10 s between tries, and starts over once a try brought something', async () => {
    const { run } = sending()
    fakeChat.last().send(frame.accepted())
    fakeChat.last().fail(netError())
    const waits: number[] = []
    for (let i = 0; i < 7; i++) {
      const before = fakeChat.connections.length
      let waited = 0
      while (fakeChat.connections.length === before) {
        await tick(100)
        waited += 100
      }
      waits.push(waited)
      fakeChat.last().fail(netError())
    }
    expect(waits).toEqual([500, 1000, 2000, 4000, 8000, RECONNECT_MAX_MS, RECONNECT_MAX_MS])
    await tick(RECONNECT_MAX_MS)
    fakeChat.last().send(frame.delta('x', '1.1'))
    fakeChat.last().fail(netError())
    await tick(reconnectDelay(0))
    expect(fakeChat.last().closed).toBe(false)
    fakeChat.last().end(frame.done())
    await run
  })

  it('tries again at once when the browser is back online, and drops a connection when it goes offline', async () => {
    const { stream, run } = sending()
    fakeChat.last().send(frame.accepted(), frame.delta('a', '1.1'))
    window.dispatchEvent(new Event('offline'))
    await tick()
    expect(fakeChat.connections[0]!.closed).toBe(true)
    expect(stream.reconnecting).toBe(true)
    // Offline: the tries fail at once, and the pauses grow.
    await tick(reconnectDelay(0))
    fakeChat.last().fail(netError())
    await tick(50)
    const tries = fakeChat.connections.length
    window.dispatchEvent(new Event('online'))
    await tick()
    expect(fakeChat.connections).toHaveLength(tries + 1)
    expect(fakeChat.last().lastEventId).toBe('1.1')
    fakeChat.last().end(frame.done())
    await run
    expect(stream.reconnecting).toBe(false)
  })

  it('makes no try while the browser says it is offline (each would fail, logged), and one as soon as it is back', async () => {
    const onLine = vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false)
    const { run } = sending()
    fakeChat.last().send(frame.accepted(), frame.delta('a', '1.1'))
    window.dispatchEvent(new Event('offline'))
    await tick(60_000)
    expect(fakeChat.connections).toHaveLength(1)
    onLine.mockReturnValue(true)
    window.dispatchEvent(new Event('online'))
    await tick()
    expect([fakeChat.connections.length, fakeChat.last().lastEventId]).toEqual([2, '1.1'])
    fakeChat.last().end(frame.done())
    await run
    onLine.mockRestore()
  })

  it('a connection silent for too long (not even a ping) is taken for dead and followed again', async () => {
    const { run } = sending()
    fakeChat.last().send(frame.accepted(), frame.queued(3, 60, '1.0'))
    await tick(STALL_MS - 1000)
    expect(fakeChat.connections).toHaveLength(1)
    await tick(1000 + reconnectDelay(0))
    expect(fakeChat.connections[0]!.closed).toBe(true)
    expect(fakeChat.connections).toHaveLength(2)
    fakeChat.last().end(frame.done())
    await run
  })

  it('gives up cleanly on 404 and 401: the answer keeps its text, marked interrupted', async () => {
    for (const status of [404, 401]) {
      fakeChat.reset()
      const { stream, a, run, ended } = sending()
      fakeChat.last().send(frame.accepted(), frame.delta('Some', '1.4'))
      fakeChat.last().fail(netError())
      await tick(reconnectDelay(0))
      fakeChat.last().fail(new ApiError({ code: status === 404 ? 'NOT_FOUND' : 'UNAUTHORIZED', status, message: '' }))
      await run
      expect(ended()).toMatchObject({ kind: 'lost', error: { status } })
      expect([stream.state, stream.reconnecting, a.status, a.content]).toEqual(['ended', false, 'interrupted', 'Some'])
      await tick(60_000)
      expect(fakeChat.connections).toHaveLength(2)
    }
  })
})

describe('useAskStream: attach', () => {
  it('follows a running ask from a snapshot: queue place, then the text replacing the stored one', async () => {
    const a = answer('Stored so f')
    const stream = useAskStream(a)
    const run = stream.attach('r7')
    expect(stream.state).toBe('attaching')
    const conn = fakeChat.last()
    expect([conn.kind, conn.requestId, conn.lastEventId]).toEqual(['attach', 'r7', null])
    conn.send(frame.accepted('1.0', { requestId: 'r7' }), frame.queued(3, 45))
    expect([stream.state, stream.queue]).toEqual(['queued', { position: 3, etaSeconds: 45 }])
    conn.send(frame.started(), frame.delta('Stored so far', '2.13'))
    await nextFrame()
    expect(a.content).toBe('Stored so far')
    conn.end(frame.done())
    await run
    expect(a.status).toBe('done')
  })

  it('404 on attach ends it at once, without trying again', async () => {
    const a = answer('x')
    const stream = useAskStream(a)
    const run = stream.attach('gone')
    fakeChat.last().fail(new ApiError({ code: 'NOT_FOUND', status: 404, message: 'No such ask.' }))
    expect(await run).toMatchObject({ kind: 'lost' })
    expect([stream.state, stream.reconnecting, a.status]).toEqual(['ended', false, 'interrupted'])
    await tick(30_000)
    expect(fakeChat.connections).toHaveLength(1)
  })

  it('the accepted hook names the message to write into', async () => {
    const other = answer()
    const stream = useAskStream<AnswerTarget>(null, { accepted: () => other })
    const run = stream.attach('r1')
    fakeChat.last().send(frame.accepted(), frame.delta('Hi', '1.2'))
    fakeChat.last().end(frame.done())
    await run
    expect([stream.answer, other.content, other.status]).toEqual([other, 'Hi', 'done'])
  })
})

describe('useAskStream: stop', () => {
  it('stop while attached tells the server, then ends with what the server sent last', async () => {
    const a = answer()
    const stream = useAskStream(a)
    const run = stream.attach('r7')
    fakeChat.last().send(frame.accepted('1.0', { requestId: 'r7' }), frame.started(), frame.delta('Some', '2.4'))
    await stream.stop()
    expect(fakeChat.stops).toEqual(['r7'])
    expect(stream.state).toBe('streaming')
    fakeChat.last().send(frame.delta(' more', '2.9'))
    fakeChat.last().end(frame.done('aborted'))
    await run
    expect([a.content, a.status, a.finishReason]).toEqual(['Some more', 'stopped', 'aborted'])
  })

  it('stop before accepted reaches the server as soon as it names the ask', async () => {
    const { stream, a, run } = sending()
    await stream.stop()
    expect(fakeChat.stops).toEqual([])
    fakeChat.last().send(frame.accepted('1.0', { requestId: 'r5' }))
    await tick()
    expect(fakeChat.stops).toEqual(['r5'])
    fakeChat.last().end(frame.done('aborted'))
    await run
    expect(a.status).toBe('stopped')
  })

  it('stop before accepted gives up on a server that never answers: nothing was stored', async () => {
    const { stream, run, ended } = sending()
    await stream.stop()
    await tick(STOP_WAIT_MS)
    await run
    expect(ended()).toEqual({ kind: 'cancelled' })
    expect(fakeChat.stops).toEqual([])
  })

  it('a stop the server took but whose stream never ends is ended here after a while', async () => {
    const { stream, a, run, ended } = sending()
    fakeChat.last().send(frame.accepted(), frame.delta('abc', '1.3'))
    await stream.stop()
    await tick(STOP_WAIT_MS - 100)
    expect(ended()).toBeNull()
    await tick(100)
    await run
    expect([a.status, a.content, fakeChat.last().closed]).toEqual(['stopped', 'abc', true])
  })

  it('stop while reconnecting follows again at once to get the server\'s end', async () => {
    const { stream, a, run } = sending()
    fakeChat.last().send(frame.accepted(), frame.delta('abc', '1.3'))
    fakeChat.last().fail(netError())
    await tick(reconnectDelay(0))
    fakeChat.last().fail(netError())
    await tick(50)
    expect(fakeChat.connections).toHaveLength(2)
    await stream.stop()
    await tick()
    expect([fakeChat.stops, fakeChat.connections.length, fakeChat.last().lastEventId]).toEqual([['r1'], 3, '1.3'])
    fakeChat.last().end(frame.done('aborted'))
    await run
    expect(a.status).toBe('stopped')
  })

  it('a stop the server cannot be told of ends the answer here', async () => {
    fakeChat.onStop(async () => {
      throw netError()
    })
    const { stream, a, run } = sending()
    fakeChat.last().send(frame.accepted(), frame.delta('abc', '1.3'))
    await stream.stop()
    await run
    expect([a.status, a.content, fakeChat.last().closed]).toEqual(['stopped', 'abc', true])
  })

  it('close() stops listening without stopping the ask', async () => {
    const { stream, run, ended } = sending()
    fakeChat.last().send(frame.accepted())
    stream.close()
    await run
    expect(ended()).toEqual({ kind: 'detached' })
    expect([fakeChat.stops, fakeChat.last().closed]).toEqual([[], true])
    await tick(30_000)
    expect(fakeChat.connections).toHaveLength(1)
  })
})
