import type { Lease, QueuePosition, Ticket } from '../src/modules/queue/fair-queue.js'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AppError } from '../src/lib/errors.js'
import { FairQueue } from '../src/modules/queue/fair-queue.js'

const flush = (): Promise<void> => new Promise(r => setImmediate(r))

/** Starts recorded in order; lets a test finish any running ask. */
function harness(opts: Partial<ConstructorParameters<typeof FairQueue>[0]> = {}) {
  const q = new FairQueue({ concurrency: 1, maxDepth: 100, maxWaitMs: 60_000, ...opts })
  const started: string[] = []
  const leases = new Map<string, Lease>()
  const positions = new Map<string, QueuePosition[]>()
  const tickets = new Map<string, Ticket>()
  const add = (id: string, member: string, maxInFlight = 1): Ticket => {
    const t = q.enqueue({ id, member, maxInFlight, onPosition: p => positions.set(id, [...(positions.get(id) ?? []), p]) })
    tickets.set(id, t)
    t.lease.then((l) => {
      started.push(id)
      leases.set(id, l)
    }, () => {})
    return t
  }
  const finish = async (id: string): Promise<void> => {
    leases.get(id)!.release()
    await flush()
  }
  return { q, add, finish, started, leases, positions, tickets }
}

describe('fair queue', () => {
  it('starts at once while a slot is free, and queues beyond concurrency', async () => {
    const h = harness({ concurrency: 2 })
    h.add('a1', 'A')
    h.add('b1', 'B')
    h.add('c1', 'C')
    await flush()
    expect(h.started).toEqual(['a1', 'b1'])
    expect(h.positions.get('a1')).toBeUndefined()
    expect(h.positions.get('c1')?.at(-1)?.position).toBe(1)
    expect(h.q.stats()).toMatchObject({ waiting: 1, running: 2 })
    await h.finish('a1')
    expect(h.started).toEqual(['a1', 'b1', 'c1'])
  })

  it('a burst of 10 from A cannot starve B and C: they start within the next two slots', async () => {
    const h = harness({ concurrency: 1 })
    for (let i = 1; i <= 10; i++)
      h.add(`a${i}`, 'A', 10)
    h.add('b1', 'B')
    h.add('c1', 'C')
    await flush()
    expect(h.started).toEqual(['a1'])
    await h.finish('a1')
    await h.finish(h.started.at(-1)!)
    expect(h.started.slice(1, 3).sort()).toEqual(['b1', 'c1'])
    // then A continues FIFO
    for (let i = 0; i < 9; i++)
      await h.finish(h.started.at(-1)!)
    expect(h.started.filter(id => id.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10'])
  })

  it('round-robins across members and keeps FIFO within a member', async () => {
    const h = harness({ concurrency: 1 })
    h.add('a1', 'A', 5)
    h.add('a2', 'A', 5)
    h.add('a3', 'A', 5)
    h.add('b1', 'B', 5)
    h.add('b2', 'B', 5)
    h.add('c1', 'C', 5)
    await flush()
    while (h.started.length < 6)
      await h.finish(h.started.at(-1)!)
    expect(h.started).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3'])
  })

  it('holds a member\'s second ask behind their running one (max in-flight 1) while others go ahead', async () => {
    const h = harness({ concurrency: 3 })
    h.add('a1', 'A')
    h.add('a2', 'A')
    h.add('b1', 'B')
    await flush()
    expect(h.started).toEqual(['a1', 'b1'])
    expect(h.q.stats()).toMatchObject({ waiting: 1, running: 2 })
    await h.finish('a1')
    expect(h.started).toEqual(['a1', 'b1', 'a2'])
  })

  it('refuses beyond the depth bound with QUEUE_FULL', () => {
    const h = harness({ concurrency: 1, maxDepth: 2 })
    h.add('a1', 'A')
    h.add('b1', 'B')
    h.add('c1', 'C')
    expect(() => h.add('d1', 'D')).toThrow(expect.objectContaining({ code: 'QUEUE_FULL' }))
  })

  it('pushes positions to every waiter when they change, and updates others when one leaves', async () => {
    const h = harness({ concurrency: 1, initialServiceSeconds: 10 })
    h.add('a1', 'A')
    h.add('b1', 'B')
    h.add('c1', 'C')
    h.add('d1', 'D')
    await flush()
    expect(h.positions.get('b1')).toEqual([{ position: 1, etaSeconds: 10 }])
    expect(h.positions.get('c1')).toEqual([{ position: 2, etaSeconds: 20 }])
    expect(h.positions.get('d1')).toEqual([{ position: 3, etaSeconds: 30 }])
    expect(h.tickets.get('c1')!.cancel()).toBe(true)
    expect(h.positions.get('b1')).toHaveLength(1) // unchanged → not re-sent
    expect(h.positions.get('d1')!.at(-1)).toEqual({ position: 2, etaSeconds: 20 })
    expect(h.q.stats().waiting).toBe(2)
    // cancelling twice, or after start, is a no-op
    expect(h.tickets.get('c1')!.cancel()).toBe(false)
    expect(h.tickets.get('a1')!.cancel()).toBe(false)
  })

  it('a cancelled waiter\'s lease rejects with the given reason and never takes a slot', async () => {
    const h = harness({ concurrency: 1 })
    h.add('a1', 'A')
    const t = h.add('b1', 'B')
    const reason = new Error('stopped')
    t.cancel(reason)
    await expect(t.lease).rejects.toBe(reason)
    await h.finish('a1')
    expect(h.started).toEqual(['a1'])
    expect(h.q.stats()).toMatchObject({ waiting: 0, running: 0 })
  })

  it('release is idempotent: a slot is freed exactly once', async () => {
    const h = harness({ concurrency: 1 })
    h.add('a1', 'A')
    h.add('b1', 'B')
    h.add('c1', 'C')
    await flush()
    const l = h.leases.get('a1')!
    l.release()
    l.release()
    l.release()
    await flush()
    expect(h.started).toEqual(['a1', 'b1'])
    expect(h.q.stats()).toMatchObject({ waiting: 1, running: 1 })
  })

  it('setConcurrency opens more slots at once', async () => {
    const h = harness({ concurrency: 1 })
    h.add('a1', 'A')
    h.add('b1', 'B')
    h.add('c1', 'C')
    await flush()
    h.q.setConcurrency(3)
    await flush()
    expect(h.started).toEqual(['a1', 'b1', 'c1'])
  })

  it('close rejects every waiter; running leases still release cleanly', async () => {
    const h = harness({ concurrency: 1 })
    h.add('a1', 'A')
    const t = h.add('b1', 'B')
    await flush()
    h.q.close()
    await expect(t.lease).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    h.leases.get('a1')!.release()
    expect(h.q.stats()).toMatchObject({ waiting: 0, running: 0 })
    expect(() => h.add('c1', 'C')).toThrow(AppError)
  })
})

describe('fair queue timing (fake clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('times out a waiter with QUEUE_TIMEOUT and moves the others up', async () => {
    const h = harness({ concurrency: 1, maxWaitMs: 5_000, now: () => Date.now() })
    h.add('a1', 'A')
    const b = h.add('b1', 'B')
    vi.advanceTimersByTime(1_000)
    const c = h.add('c1', 'C')
    vi.advanceTimersByTime(4_001)
    await expect(b.lease).rejects.toMatchObject({ code: 'QUEUE_TIMEOUT' })
    expect(h.positions.get('c1')!.at(-1)?.position).toBe(1)
    vi.advanceTimersByTime(1_000)
    await expect(c.lease).rejects.toMatchObject({ code: 'QUEUE_TIMEOUT' })
    expect(h.q.stats()).toMatchObject({ waiting: 0, running: 1 })
  })

  it('the ETA follows the moving average of service times', async () => {
    const h = harness({ concurrency: 1, initialServiceSeconds: 100, now: () => Date.now() })
    h.add('a1', 'A')
    h.add('b1', 'B')
    h.add('c1', 'C')
    await vi.advanceTimersByTimeAsync(0)
    expect(h.positions.get('c1')!.at(-1)).toEqual({ position: 2, etaSeconds: 200 })
    vi.advanceTimersByTime(4_000)
    h.leases.get('a1')!.release() // a1 took 4 s
    await vi.advanceTimersByTimeAsync(0)
    expect(h.started).toEqual(['a1', 'b1'])
    expect(h.positions.get('c1')!.at(-1)).toEqual({ position: 1, etaSeconds: 4 })
  })

  it('starts nothing during an upstream cool-down, then resumes', async () => {
    let until: number | undefined = Date.now() + 3_000
    const h = harness({ concurrency: 1, coolDownUntil: () => until, now: () => Date.now() })
    h.add('a1', 'A')
    await vi.advanceTimersByTimeAsync(2_000)
    expect(h.started).toEqual([])
    await vi.advanceTimersByTimeAsync(1_500)
    expect(h.started).toEqual(['a1'])
    until = undefined
  })
})
