import type { Limits, LimitsPatch, RateWindow, TimeSlot } from '../../contracts/limits.js'
/**
 * Pure limits logic: time slots in a time zone, rolling windows, validation, and the ordered checks
 * an ask goes through before it is queued. No I/O; time is passed in.
 */
import type { ErrorCode } from '../../lib/errors.js'

// ── time slots ──────────────────────────────────────────────────────────────────────────────────

const DAY = 24 * 60

/** "HH:MM" → minutes since midnight; `allow24` accepts "24:00" (an end). Null when malformed. */
export function parseHm(s: string, allow24 = false): number | null {
  const m = /^(\d{2}):(\d{2})$/.exec(s)
  if (!m)
    return null
  const h = Number(m[1])
  const min = Number(m[2])
  if (min > 59)
    return null
  if (h === 24 && min === 0 && allow24)
    return DAY
  if (h > 23)
    return null
  return h * 60 + min
}

const formatters = new Map<string, Intl.DateTimeFormat>()

/** Throws a RangeError for an unknown IANA time zone. */
export function assertTimeZone(tz: string): void {
  void new Intl.DateTimeFormat('en-GB', { timeZone: tz })
}

/** Minutes since local midnight in `tz` (with the seconds as a fraction). */
export function localMinutes(now: Date, tz: string): number {
  let f = formatters.get(tz)
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
    formatters.set(tz, f)
  }
  const parts = Object.fromEntries(f.formatToParts(now).map(p => [p.type, p.value]))
  return Number(parts.hour) * 60 + Number(parts.minute) + (Number(parts.second) + now.getUTCMilliseconds() / 1000) / 60
}

/** `[start, end)`; end < start crosses midnight. */
export function inSlot(minutes: number, slot: TimeSlot): boolean {
  const s = parseHm(slot.start) ?? 0
  const e = parseHm(slot.end, true) ?? 0
  return s < e ? minutes >= s && minutes < e : minutes >= s || minutes < e
}

/** True when there are no slots or `now` (read in `tz`) falls in one of them. */
export function inAnySlot(slots: TimeSlot[], now: Date, tz: string): boolean {
  if (!slots.length)
    return true
  const m = localMinutes(now, tz)
  return slots.some(s => inSlot(m, s))
}

/** When the next slot opens (ignores a DST jump on the way, at most an hour off then). */
export function nextSlotStart(slots: TimeSlot[], now: Date, tz: string): Date | null {
  if (!slots.length)
    return null
  const m = localMinutes(now, tz)
  let best = Infinity
  for (const s of slots) {
    const start = parseHm(s.start) ?? 0
    const delta = ((start - m) % DAY + DAY) % DAY
    best = Math.min(best, delta)
  }
  return new Date(Math.ceil((now.getTime() + best * 60_000) / 1000) * 1000)
}

// ── rolling windows ─────────────────────────────────────────────────────────────────────────────

export interface WindowEval {
  window: RateWindow
  used: number
  /** When the oldest counted ask leaves the window (null when empty). */
  nextFreeAt: Date | null
  /** When one more ask fits (null when it fits now). */
  blockedUntil: Date | null
}

/**
 * Evaluates the windows of one model. `asks` are the times of that member's reserved or committed
 * asks of the model (any order); an ask at `t` counts while `now - t < windowSeconds`.
 */
export function evalWindows(windows: RateWindow[], asks: Date[], now: Date): WindowEval[] {
  const times = asks.map(d => d.getTime()).sort((a, b) => a - b)
  return windows.map((w) => {
    const span = w.windowSeconds * 1000
    const inWin = times.filter(t => now.getTime() - t < span)
    const used = inWin.length
    const nextFreeAt = used ? new Date(inWin[0]! + span) : null
    const blockedUntil = used >= w.max ? new Date(inWin[used - w.max]! + span) : null
    return { window: w, used, nextFreeAt, blockedUntil }
  })
}

// ── validation ──────────────────────────────────────────────────────────────────────────────────

export class LimitsValidationError extends Error {}

/**
 * Checks what the JSON schema cannot: model keys exist, HH:MM formats, zero-length and overlapping
 * slots. Throws LimitsValidationError whose message starts with the field's path.
 */
export function validateLimitsPatch(p: LimitsPatch, knownModels: Set<string>, field = 'limits'): void {
  const fail = (where: string, msg: string): never => {
    throw new LimitsValidationError(`${field}.${where}: ${msg}`)
  }
  const known = (where: string, key: string): void => {
    if (!knownModels.has(key))
      fail(where, `unknown model "${key}" (known: ${[...knownModels].join(', ') || 'none'})`)
  }
  p.allowedModels?.forEach((k, i) => known(`allowedModels[${i}]`, k))
  if (p.allowedModels && new Set(p.allowedModels).size !== p.allowedModels.length)
    fail('allowedModels', 'lists a model twice')
  for (const [k, v] of Object.entries(p.modelAsks ?? {})) {
    known(`modelAsks.${k}`, k)
    if (v !== null && (v < -1 || !Number.isInteger(v)))
      fail(`modelAsks.${k}`, 'must be -1 (unlimited) or a count ≥ 0')
  }
  for (const [name, v] of [['totalAsks', p.totalAsks], ['maxConversations', p.maxConversations]] as const) {
    if (v !== undefined && v < -1)
      fail(name, 'must be -1 (unlimited) or a count ≥ 0')
  }
  if (p.validUntil && Number.isNaN(Date.parse(p.validUntil)))
    fail('validUntil', 'must be an ISO date-time or null')
  p.rateWindows?.forEach((w, i) => {
    known(`rateWindows[${i}].model`, w.model)
    if (!(w.windowSeconds >= 1))
      fail(`rateWindows[${i}].windowSeconds`, 'a window must be at least 1 second long')
    if (!(w.max >= 1))
      fail(`rateWindows[${i}].max`, 'must be at least 1 (remove the model from allowedModels to block it)')
  })
  if (p.timeSlots) {
    // Split slots crossing midnight into two pieces on one day, then look for overlaps.
    const pieces: Array<{ s: number, e: number, i: number }> = []
    p.timeSlots.forEach((slot, i) => {
      const s = parseHm(slot.start)
      const e = parseHm(slot.end, true)
      if (s === null)
        fail(`timeSlots[${i}].start`, `"${slot.start}" is not a time of day HH:MM (00:00–23:59)`)
      if (e === null)
        fail(`timeSlots[${i}].end`, `"${slot.end}" is not a time of day HH:MM (00:00–24:00)`)
      if (s === e || (s === 0 && e === DAY))
        fail(`timeSlots[${i}]`, s === e ? 'start and end are equal (zero length); for all day, use no slots' : 'covers the whole day; for all day, use no slots')
      if (s! < e!) {
        pieces.push({ s: s!, e: e!, i })
      }
      else {
        pieces.push({ s: s!, e: DAY, i })
        if (e! > 0)
          pieces.push({ s: 0, e: e!, i })
      }
    })
    pieces.sort((a, b) => a.s - b.s)
    for (let k = 1; k < pieces.length; k++) {
      const a = pieces[k - 1]!
      const b = pieces[k]!
      if (b.s < a.e)
        fail(`timeSlots[${Math.max(a.i, b.i)}]`, `overlaps timeSlots[${Math.min(a.i, b.i)}]`)
    }
  }
}

// ── the checks, in order ────────────────────────────────────────────────────────────────────────

/** What one ask is checked against. Counts are -1 for unlimited. */
export interface AskLimits {
  userEnabled: boolean
  limits: Pick<Limits, 'enabled' | 'allowedModels' | 'maxConversations' | 'totalAsks' | 'rateWindows' | 'timeSlots'> & { validUntil: Date | null }
  /** Remaining asks of the asked model (the default already applied). */
  modelAsks: number
}

export interface AskFacts {
  now: Date
  timezone: string
  model: string
  newConversation: boolean
  /** Conversations the member owns (only needed when newConversation and maxConversations ≠ -1). */
  conversations: number
  /** Times of the member's reserved/committed asks of this model inside the longest window. */
  windowAsks: Date[]
}

export interface CheckFailure {
  code: ErrorCode
  message: string
  /** When the failing check passes with time by itself. */
  nextAllowedAt?: Date
}

/**
 * THE CHECK ORDER (also in docs/limits.md). The first failing check decides the error:
 *   1. ACCOUNT_DISABLED      the member's account or its asking is disabled
 *   2. ACCOUNT_EXPIRED       now ≥ validUntil
 *   3. MODEL_NOT_ALLOWED     the model is not in allowedModels (null = all)
 *   4. OUTSIDE_TIME_SLOT     now (in limits.timezone) is in none of the daily slots (none = any time)
 *   5. TOTAL_ASKS_EXHAUSTED  totalAsks = 0
 *   6. MODEL_ASKS_EXHAUSTED  modelAsks[model] = 0
 *   7. RATE_WINDOW_FULL      a rolling window of this model is full (with the time the next ask fits)
 *   8. MAX_CONVERSATIONS     a new conversation while owning maxConversations already
 * In-flight asks are not refused: the fair queue makes a member's extra asks wait (maxInFlight goes
 * to the queue with the reservation). An unknown model fails earlier, with UNKNOWN_MODEL.
 */
export function checkAsk(l: AskLimits, f: AskFacts): CheckFailure | null {
  return checkPerModel(l, f) ?? checkNewConversation(l, f)
}

/** Checks 1–7: everything that decides whether a model can be used right now. */
export function checkPerModel(l: AskLimits, f: AskFacts): CheckFailure | null {
  const { limits } = l
  if (!l.userEnabled || !limits.enabled)
    return { code: 'ACCOUNT_DISABLED', message: 'Your account may not ask questions at the moment. Contact the administrator.' }
  if (limits.validUntil && f.now.getTime() >= limits.validUntil.getTime())
    return { code: 'ACCOUNT_EXPIRED', message: `Your access expired on ${limits.validUntil.toISOString()}. Contact the administrator to extend it.` }
  if (limits.allowedModels && !limits.allowedModels.includes(f.model))
    return { code: 'MODEL_NOT_ALLOWED', message: `You may not use the model "${f.model}".` }
  if (!inAnySlot(limits.timeSlots, f.now, f.timezone)) {
    const next = nextSlotStart(limits.timeSlots, f.now, f.timezone)
    const slots = limits.timeSlots.map(s => `${s.start}–${s.end}`).join(', ')
    return { code: 'OUTSIDE_TIME_SLOT', message: `Asking is allowed only during ${slots} (${f.timezone}).`, nextAllowedAt: next ?? undefined }
  }
  if (limits.totalAsks === 0)
    return { code: 'TOTAL_ASKS_EXHAUSTED', message: 'You have no asks left. Contact the administrator for more.' }
  if (l.modelAsks === 0)
    return { code: 'MODEL_ASKS_EXHAUSTED', message: `You have no asks left for "${f.model}". Contact the administrator, or pick another model.` }
  const windows = limits.rateWindows.filter(w => w.model === f.model)
  if (windows.length) {
    const full = evalWindows(windows, f.windowAsks, f.now).filter(w => w.blockedUntil)
    if (full.length) {
      const until = new Date(Math.max(...full.map(w => w.blockedUntil!.getTime())))
      const w = full[0]!.window
      return { code: 'RATE_WINDOW_FULL', message: `"${f.model}" allows ${w.max} asks per ${describeSeconds(w.windowSeconds)}; the next one fits at ${until.toISOString()}.`, nextAllowedAt: until }
    }
  }
  return null
}

function checkNewConversation(l: AskLimits, f: AskFacts): CheckFailure | null {
  const max = l.limits.maxConversations
  if (f.newConversation && max !== -1 && f.conversations >= max)
    return { code: 'MAX_CONVERSATIONS', message: `You already have ${f.conversations} conversations (at most ${max}). Delete one, or continue an existing one.` }
  return null
}

export function describeSeconds(s: number): string {
  if (s % 86_400 === 0)
    return s === 86_400 ? 'day' : `${s / 86_400} days`
  if (s % 3600 === 0)
    return s === 3600 ? 'hour' : `${s / 3600} hours`
  if (s % 60 === 0)
    return s === 60 ? 'minute' : `${s / 60} minutes`
  return `${s} seconds`
}

/** The longest window of a model, in seconds (0 when it has none). */
export function longestWindow(windows: RateWindow[], model: string): number {
  return windows.filter(w => w.model === model).reduce((m, w) => Math.max(m, w.windowSeconds), 0)
}
