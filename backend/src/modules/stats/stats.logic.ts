import type { AskAggregate, StatsBucket } from '../../contracts/stats.js'

/** Every UTC offset in use is a multiple of 15 minutes, so local labels are constant on these slots. */
const SLOT_MS = 15 * 60_000
const HOUR_MS = 3_600_000

/**
 * Maps instants to local bucket labels in one IANA zone: `YYYY-MM-DD` or `YYYY-MM-DD HH:00`.
 * Memoized per 15-minute slot, so labelling many rows costs one Intl call per slot.
 */
export function createBucketer(timezone: string, bucket: StatsBucket) {
  const fmt = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    hourCycle: 'h23',
  })
  const cache = new Map<number, string>()

  function labelOfSlot(slot: number): string {
    let label = cache.get(slot)
    if (label === undefined) {
      const parts = Object.fromEntries(fmt.formatToParts(new Date(slot * SLOT_MS)).map(p => [p.type, p.value]))
      const day = `${parts.year}-${parts.month}-${parts.day}`
      label = bucket === 'day' ? day : `${day} ${parts.hour}:00`
      cache.set(slot, label)
    }
    return label
  }

  /** The local label of the bucket an instant falls in. */
  function label(at: Date | number): string {
    const ms = typeof at === 'number' ? at : at.getTime()
    return labelOfSlot(Math.floor(ms / SLOT_MS))
  }

  /** The instant the bucket holding `at` starts (the first 15-minute slot with its label). */
  function startOf(at: Date | number): number {
    const ms = typeof at === 'number' ? at : at.getTime()
    let slot = Math.floor(ms / SLOT_MS)
    const l = labelOfSlot(slot)
    // Walk back by hours while the label holds, then by slots.
    const step = HOUR_MS / SLOT_MS
    while (labelOfSlot(slot - step) === l) slot -= step
    while (labelOfSlot(slot - 1) === l) slot -= 1
    return slot * SLOT_MS
  }

  /**
   * Every bucket touching `[from, to)`, oldest first, with the instant each starts. Walks by hours
   * and refines to 15-minute slots only where a label changes (half-hour zones, DST).
   */
  function series(from: Date, to: Date): Array<{ key: string, start: number }> {
    const out: Array<{ key: string, start: number }> = []
    const end = to.getTime()
    let start = startOf(from)
    let key = label(start)
    out.push({ key, start })
    let slot = start / SLOT_MS
    const step = HOUR_MS / SLOT_MS
    while ((slot + step) * SLOT_MS < end) {
      const next = slot + step
      if (labelOfSlot(next) !== key) {
        let s = slot + 1
        while (labelOfSlot(s) === key) s += 1
        if (s * SLOT_MS >= end)
          break
        start = s * SLOT_MS
        key = labelOfSlot(s)
        out.push({ key, start })
        slot = s
      }
      else {
        slot = next
      }
    }
    return out
  }

  return { label, startOf, series }
}

/** What of an Ask row the aggregates read. */
export interface AskFacts {
  outcome: string
  queueWaitMs: number | null
  ttftMs: number | null
  charsIn: number
  charsOut: number
  tokensOut: number | null
}

/** A running aggregate; `finish()` turns it into the wire shape. */
export function createAggregate() {
  let asks = 0
  let done = 0
  let stopped = 0
  let error = 0
  let other = 0
  let waitSum = 0
  let waitN = 0
  let ttftSum = 0
  let ttftN = 0
  let charsIn = 0
  let charsOut = 0
  let tokensOut: number | null = null
  return {
    add(a: AskFacts): void {
      asks += 1
      if (a.outcome === 'done')
        done += 1
      else if (a.outcome === 'stopped')
        stopped += 1
      else if (a.outcome === 'error')
        error += 1
      else other += 1
      if (a.queueWaitMs !== null) {
        waitSum += a.queueWaitMs
        waitN += 1
      }
      if (a.ttftMs !== null) {
        ttftSum += a.ttftMs
        ttftN += 1
      }
      charsIn += a.charsIn
      charsOut += a.charsOut
      if (a.tokensOut !== null)
        tokensOut = (tokensOut ?? 0) + a.tokensOut
    },
    get asks(): number {
      return asks
    },
    finish(): AskAggregate {
      return {
        asks,
        done,
        stopped,
        error,
        other,
        avgQueueWaitMs: waitN ? Math.round(waitSum / waitN) : null,
        avgTtftMs: ttftN ? Math.round(ttftSum / ttftN) : null,
        charsIn,
        charsOut,
        tokensOut,
      }
    },
  }
}
