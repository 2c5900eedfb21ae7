import type { ModelStatus, QueuedEvent } from '@cws/backend/contracts'

/**
 * What members are told about the shared accounts behind a model (`ModelStatus.pool`, `queued`
 * events): pure functions over the API's data and a translator, so the picker, the status card, the
 * banner and the queued answer all say the same thing (docs/architecture.md, "The SPA").
 */

export interface NoteFormat {
  t: (key: string, named?: Record<string, unknown>) => string
  /** "15:40" today, a date and time on another day. */
  time: (iso: string) => string
}

/** Why the model's accounts cannot answer now, or null when they can. */
export type PoolTrouble = 'cooling' | 'capped' | 'down' | 'share'

export function poolTrouble(m: ModelStatus | null | undefined): PoolTrouble | null {
  const pool = m?.pool
  if (!pool)
    return null
  if (pool.state !== 'ok')
    return pool.state
  if (pool.share && pool.share.remaining <= 0)
    return 'share'
  return null
}

/** When the model can answer again, if known. */
export function backAt(m: ModelStatus): string | null {
  const pool = m.pool
  if (!pool)
    return null
  if (pool.state === 'cooling' || pool.state === 'capped')
    return pool.until
  if (pool.state === 'ok' && pool.share && pool.share.remaining <= 0)
    return pool.groupCap?.resetsAt ?? m.nextAllowedAt
  return null
}

/** The short mark next to a model: "Cooling down, back about 15:40", "All accounts are down". */
export function poolMark(m: ModelStatus, f: NoteFormat): string | null {
  const trouble = poolTrouble(m)
  if (!trouble)
    return null
  const until = backAt(m)
  return until ? f.t(`chat.pool.mark.${trouble}Until`, { time: f.time(until) }) : f.t(`chat.pool.mark.${trouble}`)
}

/** "GPT-4o: about 23 of 80 left for the group until 15:40" (null when the accounts have no cap for it). */
export function groupCapText(m: ModelStatus, f: NoteFormat, withName = false): string | null {
  const cap = m.pool?.groupCap
  if (!cap)
    return null
  const named = { name: m.name, remaining: cap.remaining, total: cap.total }
  const text = cap.resetsAt ? f.t('chat.pool.groupCapUntil', { ...named, time: f.time(cap.resetsAt) }) : f.t('chat.pool.groupCap', named)
  return withName ? f.t('chat.pool.named', { name: m.name, text }) : text
}

/** "your share: 3 of 4 left" while the group's last part is split (null otherwise). */
export function shareText(m: ModelStatus, f: NoteFormat): string | null {
  const share = m.pool?.share
  return share ? f.t('chat.pool.share', { remaining: Math.max(0, share.remaining), of: share.of }) : null
}

/** The model offered instead of `m` now: its fallback, if this member may use it and it can answer. */
export function fallbackFor(m: ModelStatus | null | undefined, models: readonly ModelStatus[]): ModelStatus | null {
  const key = m?.pool?.fallback
  const fb = key ? models.find(x => x.key === key) : undefined
  return fb && fb.available && poolTrouble(fb) !== 'down' ? fb : null
}

/**
 * How a fallback is taken in a conversation: in place, or (a conversation that lives on another
 * upstream than the fallback: the server refuses to move it) by continuing in a new conversation.
 */
export function fallbackMode(conversation: { id: string | null, model: string }, fallback: ModelStatus, models: readonly ModelStatus[]): 'switch' | 'new' {
  if (!conversation.id)
    return 'switch'
  const own = models.find(x => x.key === conversation.model)
  return !own || own.upstreamId === fallback.upstreamId ? 'switch' : 'new'
}

/** The banner above the composer when the selected model's accounts cannot answer now (null when they can). */
export function poolBannerText(m: ModelStatus, fallback: ModelStatus | null, f: NoteFormat): string | null {
  const trouble = poolTrouble(m)
  if (!trouble)
    return null
  const until = backAt(m)
  const what = until
    ? f.t(`chat.pool.banner.${trouble}Until`, { name: m.name, time: f.time(until) })
    : f.t(`chat.pool.banner.${trouble}`, { name: m.name })
  const next = fallback ? f.t('chat.pool.banner.orFallback', { fallback: fallback.name }) : f.t(trouble === 'down' ? 'chat.pool.banner.tryLater' : 'chat.pool.banner.wait')
  return f.t('chat.pool.banner.joined', { what, next })
}

/** Minutes or seconds, rounded, for an ETA. */
export function etaText(seconds: number, f: NoteFormat): string {
  return seconds < 90 ? f.t('chat.seconds', { n: Math.max(1, Math.round(seconds)) }) : f.t('chat.minutes', { n: Math.round(seconds / 60) })
}

/** What a waiting answer says: its place, the ETA, and why it waits beyond its turn ("about 12 min, the account is cooling down"). */
export function queuedText(q: Pick<QueuedEvent, 'position' | 'etaSeconds' | 'waitingFor'>, f: NoteFormat): string {
  if (q.waitingFor) {
    const why = f.t(`chat.pool.waitingFor.${q.waitingFor}`)
    return q.etaSeconds ? f.t('chat.queuedFor', { eta: etaText(q.etaSeconds, f), why }) : f.t('chat.queuedForNoEta', { why })
  }
  return q.etaSeconds
    ? f.t('chat.queuedEta', { position: q.position, eta: etaText(q.etaSeconds, f) })
    : f.t('chat.queued', { position: q.position })
}

/** A clock time for `iso`: "15:40" today, "Dec 5, 15:40" on another day. */
export function clockTime(d: (value: Date, opts: Intl.DateTimeFormatOptions) => string, iso: string, now = new Date()): string {
  const when = new Date(iso)
  const sameDay = when.toDateString() === now.toDateString()
  return sameDay
    ? d(when, { hour: '2-digit', minute: '2-digit' })
    : d(when, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
}
