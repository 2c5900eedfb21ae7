/**
 * One fair queue per upstream: `concurrency` slots, round-robin across members with waiting asks,
 * FIFO within a member, at most `maxInFlight` running asks per member (a member's further asks wait
 * behind their running one rather than being refused), bounded depth (QUEUE_FULL) and wait
 * (QUEUE_TIMEOUT), and an upstream cool-down respected before any start.
 *
 * Fairness rule: when a slot is free, the eligible member served longest ago goes next (a member
 * never served, or whose earlier asks all ended, counts as "longest ago"); ties go to the older head
 * ask. This is round-robin: a burst of ten asks from one member gets every other slot at most.
 *
 * Position and ETA are pushed to every waiter whenever they change. The position is the waiter's
 * place in the order the queue would start the current waiters if nobody else arrived; the ETA is
 * the moving average of recent service times × position / concurrency.
 *
 * Every granted slot comes as a `Lease` whose `release()` is idempotent: whatever ends an ask (done,
 * error, stop, disconnect, timeout, shutdown) may call it, and the slot is freed exactly once.
 *
 * Pure: no I/O; time comes from `now()`, timers from the global timer functions (fake in tests).
 */
import type { EnqueueRequest, FairQueueOptions, Lease, Place, QueuePosition, QueueStats, Slot, SlotNeeds, Ticket } from './queue.types.js'
import { AppError } from '../../lib/errors.js'

export type { EnqueueRequest, FairQueueOptions, Lease, Place, QueueBlock, QueuePosition, QueueStats, Slot, SlotNeeds, SlotOutcome, Ticket } from './queue.types.js'

interface Waiter {
  id: string
  seq: number
  member: number | string
  maxInFlight: number
  enqueuedAt: number
  needs: SlotNeeds
  onPosition?: (p: QueuePosition) => void
  resolve: (l: Lease) => void
  reject: (err: unknown) => void
  timer: ReturnType<typeof setTimeout>
  last?: QueuePosition
}

interface MemberState {
  waiting: Waiter[]
  running: number
  /** Dispatch sequence number of this member's latest start (0 = never). */
  lastServed: number
}

export class FairQueue {
  private readonly members = new Map<number | string, MemberState>()
  private readonly waiters = new Map<string, Waiter>()
  private readonly samples: number[] = []
  private waitingCount = 0
  /** Places claimed by `hold` and not yet filled: they count against `maxDepth`. */
  private heldCount = 0
  private runningCount = 0
  private seq = 0
  private served = 0
  private concurrency: number
  private coolTimer: ReturnType<typeof setTimeout> | undefined
  private closed = false
  private readonly now: () => number

  constructor(private readonly opts: FairQueueOptions) {
    this.concurrency = Math.max(1, opts.concurrency)
    this.now = opts.now ?? Date.now
  }

  stats(): QueueStats {
    return { waiting: this.waitingCount, running: this.runningCount, concurrency: this.concurrency, avgServiceSeconds: this.avgServiceSeconds() }
  }

  /** The last position announced to a waiting ask (undefined once it started or left). */
  positionOf(id: string): QueuePosition | undefined {
    return this.waiters.get(id)?.last
  }

  /** Changes the number of slots (settings hot-reload); running asks are never cut. */
  setConcurrency(n: number): void {
    this.concurrency = Math.max(1, n)
    this.dispatch()
  }

  /**
   * Claims a place without joining yet (synchronous: it runs inside the admission transaction, so
   * a full queue undoes the whole admission). Throws QUEUE_FULL when `maxDepth` asks already wait.
   */
  hold(): Place {
    this.checkRoom()
    this.heldCount++
    let open = true
    const give = (): boolean => {
      if (!open)
        return false
      open = false
      this.heldCount--
      return true
    }
    return {
      enqueue: (req) => {
        if (!give())
          throw new Error('this place was already used')
        return this.join(req)
      },
      release: () => void give(),
    }
  }

  /** Throws QUEUE_FULL when `maxDepth` asks already wait. */
  enqueue(req: EnqueueRequest): Ticket {
    this.checkRoom()
    return this.join(req)
  }

  private checkRoom(): void {
    if (this.closed)
      throw new AppError('SERVICE_UNAVAILABLE', 'The server is shutting down.')
    if (this.waitingCount + this.heldCount >= this.opts.maxDepth)
      throw new AppError('QUEUE_FULL', 'Too many questions are waiting for this model right now. Try again in a little while.')
  }

  private join(req: EnqueueRequest): Ticket {
    if (this.closed)
      throw new AppError('SERVICE_UNAVAILABLE', 'The server is shutting down.')
    let resolve!: (l: Lease) => void
    let reject!: (err: unknown) => void
    const lease = new Promise<Lease>((res, rej) => {
      resolve = res
      reject = rej
    })
    // Whoever awaits the lease handles rejections; an unobserved one must not crash the process.
    lease.catch(() => {})
    const waiter: Waiter = {
      id: req.id,
      seq: ++this.seq,
      member: req.member,
      maxInFlight: Math.max(1, req.maxInFlight),
      enqueuedAt: this.now(),
      needs: req.needs ?? {},
      onPosition: req.onPosition,
      resolve,
      reject,
      timer: setTimeout(() => {
        if (this.remove(waiter))
          waiter.reject(new AppError('QUEUE_TIMEOUT', 'Waited too long in the queue; try again later.'))
      }, this.opts.maxWaitMs),
    }
    waiter.timer.unref?.()
    const m = this.member(req.member)
    m.waiting.push(waiter)
    this.waiters.set(waiter.id, waiter)
    this.waitingCount++
    this.dispatch()
    this.publishPositions()
    return {
      id: req.id,
      lease,
      cancel: (reason?: unknown) => {
        if (!this.remove(waiter))
          return false
        waiter.reject(reason ?? new AppError('BAD_REQUEST', 'Cancelled.'))
        return true
      },
    }
  }

  /** Rejects every waiter (shutdown). Running leases stay valid until released. */
  close(reason: unknown = new AppError('SERVICE_UNAVAILABLE', 'The server is shutting down.')): void {
    this.closed = true
    clearTimeout(this.coolTimer)
    for (const m of [...this.members.values()]) {
      for (const w of [...m.waiting]) {
        if (this.remove(w, false))
          w.reject(reason)
      }
    }
  }

  private member(id: number | string): MemberState {
    let m = this.members.get(id)
    if (!m) {
      m = { waiting: [], running: 0, lastServed: 0 }
      this.members.set(id, m)
    }
    return m
  }

  /** Takes a waiter out of the queue; false if it is no longer waiting. */
  private remove(w: Waiter, update = true): boolean {
    const m = this.members.get(w.member)
    const i = m ? m.waiting.indexOf(w) : -1
    if (!m || i < 0)
      return false
    m.waiting.splice(i, 1)
    this.waiters.delete(w.id)
    this.waitingCount--
    clearTimeout(w.timer)
    this.forget(w.member, m)
    if (update)
      this.publishPositions()
    return true
  }

  private forget(id: number | string, m: MemberState): void {
    if (!m.waiting.length && !m.running)
      this.members.delete(id)
  }

  private avgServiceSeconds(): number {
    if (!this.samples.length)
      return this.opts.initialServiceSeconds ?? 20
    return this.samples.reduce((a, b) => a + b, 0) / this.samples.length / 1000
  }

  /** Members in the order the round-robin would serve them next (ignoring in-flight limits). */
  private memberOrder(): MemberState[] {
    return [...this.members.values()]
      .filter(m => m.waiting.length)
      .sort((a, b) => a.lastServed - b.lastServed || a.waiting[0]!.seq - b.waiting[0]!.seq)
  }

  /** A slot for `w` now, or undefined. */
  private placeFor(w: Waiter): Slot | undefined {
    if (this.opts.place)
      return this.opts.place(w.needs)
    if (this.runningCount >= this.concurrency)
      return undefined
    return { release: () => {} }
  }

  private dispatch(): void {
    if (this.closed)
      return
    let started = false
    let blocked = false
    while (this.waitingCount > 0) {
      if (!this.opts.place) {
        const until = this.opts.coolDownUntil?.()
        const now = this.now()
        if (until !== undefined && until > now) {
          this.wakeAt(until - now)
          break
        }
      }
      // Members in round-robin order; a head ask that cannot be placed (its account is busy) does
      // not hold back the members behind it.
      let placed: { m: MemberState, w: Waiter, slot: Slot } | undefined
      for (const m of this.memberOrder()) {
        const w = m.waiting[0]!
        if (m.running >= w.maxInFlight)
          continue
        const slot = this.placeFor(w)
        if (slot) {
          placed = { m, w, slot }
          break
        }
        blocked = true
      }
      if (!placed)
        break
      const { m, w, slot } = placed
      m.waiting.shift()
      this.waiters.delete(w.id)
      this.waitingCount--
      clearTimeout(w.timer)
      m.running++
      m.lastServed = ++this.served
      this.runningCount++
      started = true
      w.resolve(this.lease(w, m, slot))
    }
    if (blocked && this.waitingCount > 0) {
      const at = this.opts.nextChange?.()
      if (at !== undefined)
        this.wakeAt(Math.max(1, at - this.now()))
    }
    if (started)
      this.publishPositions()
  }

  private wakeAt(ms: number): void {
    clearTimeout(this.coolTimer)
    this.coolTimer = setTimeout(() => {
      this.dispatch()
      this.publishPositions()
    }, Math.max(1, ms))
    this.coolTimer.unref?.()
  }

  private lease(w: Waiter, m: MemberState, slot: Slot): Lease {
    const startedAt = this.now()
    let released = false
    return {
      id: w.id,
      waitedMs: startedAt - w.enqueuedAt,
      account: slot.account,
      release: (opts) => {
        if (released)
          return
        released = true
        m.running--
        this.runningCount--
        const sample = opts?.sample !== false
        if (sample) {
          this.samples.push(Math.max(0, this.now() - startedAt))
          if (this.samples.length > (this.opts.sampleSize ?? 20))
            this.samples.shift()
        }
        slot.release({ sample, produced: opts?.produced ?? sample, rateLimited: opts?.rateLimited })
        this.forget(w.member, m)
        this.dispatch()
        // An ETA may have changed even when nobody moved (new average).
        this.publishPositions()
      },
    }
  }

  /** Recomputes every waiter's position and ETA; notifies those whose values changed. */
  private publishPositions(): void {
    if (!this.waitingCount)
      return
    const order = this.memberOrder()
    const avg = this.avgServiceSeconds()
    const capacity = Math.max(1, this.opts.capacity?.() ?? this.concurrency)
    // Nothing can start before the earliest cool-down or pacing gap ends: that time comes first.
    const next = this.opts.nextChange?.() ?? this.opts.coolDownUntil?.()
    const restSeconds = next !== undefined && this.runningCount < capacity ? Math.max(0, (next - this.now()) / 1000) : 0
    let position = 0
    for (let round = 0; ; round++) {
      let any = false
      for (const m of order) {
        const w = m.waiting[round]
        if (!w)
          continue
        any = true
        position++
        // Held back beyond its turn (every account it may use cooling, capped, paced or down): that wait first.
        const block = this.opts.blockedBy?.(w.needs)
        const held = block && block.why !== 'busy' ? block : undefined
        const rest = held?.until !== undefined ? Math.max(restSeconds, (held.until - this.now()) / 1000) : restSeconds
        const p: QueuePosition = { position, etaSeconds: Math.ceil(rest + (avg * position) / capacity) }
        if (held)
          p.waitingFor = held.why as Exclude<typeof held.why, 'busy'>
        if (!w.last || w.last.position !== p.position || w.last.etaSeconds !== p.etaSeconds || w.last.waitingFor !== p.waitingFor) {
          w.last = p
          try {
            w.onPosition?.(p)
          }
          catch {}
        }
      }
      if (!any)
        break
    }
  }
}
