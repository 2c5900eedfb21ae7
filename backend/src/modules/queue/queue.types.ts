/** The fair queue's contract with its callers (see fair-queue.ts and docs/architecture.md, "The ask path"). */

export interface QueuePosition {
  /** 1 = next to start. */
  position: number
  etaSeconds: number
  /** Why it waits beyond its turn (then `etaSeconds` includes that wait). */
  waitingFor?: 'cooling' | 'capped' | 'paced' | 'down'
}

/** Why nothing can start an ask now (`FairQueueOptions.blockedBy`). */
export interface QueueBlock {
  why: 'cooling' | 'capped' | 'paced' | 'down' | 'busy'
  /** When the first account is expected back (epoch ms), if known. */
  until?: number
}

export interface EnqueueRequest {
  /** The ask's id (requestId). */
  id: string
  member: number | string
  /** The member's max running asks on this upstream (≥ 1). */
  maxInFlight: number
  /** Called with the waiter's position whenever it changes (not called if the ask starts at once). */
  onPosition?: (p: QueuePosition) => void
  /** What `place` needs to find this ask a slot (the model, an account it must run on). */
  needs?: SlotNeeds
}

/** What a waiting ask needs of a slot (see `FairQueueOptions.place`). */
export interface SlotNeeds {
  model?: string
  /** Only this account may run it (ChatGPT web conversations live on one account). */
  pin?: string
}

/** A slot found by `place`: freed once with `release`. */
export interface Slot {
  /** The account the ask runs on (`place` decides); undefined with plain `concurrency`. */
  account?: string
  release: (outcome: SlotOutcome) => void
}

export interface SlotOutcome {
  /** The ask ran as it should (its time counts in the ETA average). */
  sample: boolean
  /** The upstream produced output for it (it counts against the account's cap). */
  produced?: boolean
  /** The upstream refused with a rate limit: how long that account should rest (undefined = its default). */
  rateLimited?: { retryAfterSeconds?: number }
}

export interface Lease {
  readonly id: string
  /** How long the ask waited for its slot, in ms. */
  readonly waitedMs: number
  /** The account chosen by `place`. */
  readonly account?: string
  /** Frees the slot. Idempotent. `sample: false` keeps this run out of the ETA average (e.g. it failed at once). */
  release: (opts?: Partial<SlotOutcome>) => void
}

export interface Ticket {
  readonly id: string
  /** Resolves when the ask may start; rejects with QUEUE_TIMEOUT, or with the reason given to `cancel`. */
  readonly lease: Promise<Lease>
  /** Leaves the queue if still waiting (returns true); false if it already started or ended. */
  cancel: (reason?: unknown) => boolean
}

/** A place in the queue claimed inside the admission transaction, filled once it committed. */
export interface Place {
  /** Joins the queue in the claimed place. Once. */
  enqueue: (req: EnqueueRequest) => Ticket
  /** Gives the place back (the admission failed). Idempotent; no-op after `enqueue`. */
  release: () => void
}

export interface FairQueueOptions {
  /** Slots when there is no `place`: any ask may take any of `concurrency` slots. */
  concurrency: number
  maxDepth: number
  maxWaitMs: number
  /** Until when (epoch ms) the upstream must not be called; checked before every start (with plain `concurrency`). */
  coolDownUntil?: () => number | undefined
  /**
   * Finds a slot for an ask now, or undefined (every fitting account busy, cooling down, paced or
   * out of its cap). With it, `concurrency` is only used for the ETA unless `capacity` is given.
   */
  place?: (needs: SlotNeeds) => Slot | undefined
  /** Slots in use at most right now (for the ETA). */
  capacity?: () => number
  /** Why an ask with these needs cannot start now (undefined: it could), for its position event. */
  blockedBy?: (needs: SlotNeeds) => QueueBlock | undefined
  /** When (epoch ms) an ask that cannot be placed now might be: the queue tries again then. */
  nextChange?: () => number | undefined
  /** Service time assumed before any ask has finished, in seconds. */
  initialServiceSeconds?: number
  /** How many recent service times the ETA averages. */
  sampleSize?: number
  now?: () => number
}

export interface QueueStats {
  waiting: number
  running: number
  concurrency: number
  /** Current average service time, in seconds. */
  avgServiceSeconds: number
}
