import type { Limits, LimitsPatch } from '@cws/backend/contracts'

/** How a model's remaining asks are set: the default for new members, unlimited, or a count. */
export type ModelAskMode = 'default' | 'unlimited' | 'count'
export type WindowUnit = 'minutes' | 'hours' | 'days'
/** The sections of the limits form; also the fields a bulk template may include. */
export type LimitsField = keyof Limits

export interface LimitsForm {
  enabled: boolean
  /** Epoch ms (the date picker's value), null = forever. */
  validUntil: number | null
  allModels: boolean
  allowedModels: string[]
  maxConversationsUnlimited: boolean
  maxConversations: number
  totalAsksUnlimited: boolean
  totalAsks: number
  /** One row per configured model (plus any stored key no longer configured). */
  modelAsks: Array<{ model: string, mode: ModelAskMode, count: number }>
  rateWindows: Array<{ model: string, max: number, amount: number, unit: WindowUnit }>
  /** "HH:MM"; an end before the start crosses midnight. */
  timeSlots: Array<{ start: string, end: string }>
  maxInFlight: number
  /** 1-100: this member's part when a capped model is shared by weight. */
  shareWeight: number
}

const UNIT_SECONDS: Record<WindowUnit, number> = { minutes: 60, hours: 3600, days: 86_400 }

export function windowFromSeconds(seconds: number): { amount: number, unit: WindowUnit } {
  if (seconds % 86_400 === 0)
    return { amount: seconds / 86_400, unit: 'days' }
  if (seconds % 3600 === 0)
    return { amount: seconds / 3600, unit: 'hours' }
  return { amount: Math.max(1, Math.round(seconds / 60)), unit: 'minutes' }
}

export function windowSeconds(amount: number, unit: WindowUnit): number {
  return Math.round(amount * UNIT_SECONDS[unit])
}

/**
 * The form for stored limits. `defaultsMode`: editing the defaults for new members, where a model
 * without a count is simply unlimited (there is no further default to fall back to).
 */
export function toForm(l: Limits, models: string[], defaultsMode = false): LimitsForm {
  const keys = [...models, ...Object.keys(l.modelAsks).filter(k => !models.includes(k))]
  return {
    enabled: l.enabled,
    validUntil: l.validUntil ? Date.parse(l.validUntil) : null,
    allModels: l.allowedModels === null,
    allowedModels: l.allowedModels ? [...l.allowedModels] : [...models],
    maxConversationsUnlimited: l.maxConversations === -1,
    maxConversations: l.maxConversations === -1 ? 10 : l.maxConversations,
    totalAsksUnlimited: l.totalAsks === -1,
    totalAsks: l.totalAsks === -1 ? 100 : l.totalAsks,
    modelAsks: keys.map((model) => {
      const v = l.modelAsks[model]
      if (v === undefined)
        return { model, mode: defaultsMode ? 'unlimited' : 'default', count: 0 }
      return v === -1 ? { model, mode: 'unlimited', count: 0 } : { model, mode: 'count', count: v }
    }),
    rateWindows: l.rateWindows.map(w => ({ model: w.model, max: w.max, ...windowFromSeconds(w.windowSeconds) })),
    timeSlots: l.timeSlots.map(s => ({ start: s.start, end: s.end === '24:00' ? '00:00' : s.end })),
    maxInFlight: l.maxInFlight,
    shareWeight: l.shareWeight ?? 1,
  }
}

/** The full wire value of one field of the form. */
function fieldValue(f: LimitsForm, field: LimitsField): LimitsPatch[LimitsField] {
  switch (field) {
    case 'enabled': return f.enabled
    case 'validUntil': return f.validUntil === null ? null : new Date(f.validUntil).toISOString()
    case 'allowedModels': return f.allModels ? null : [...f.allowedModels]
    case 'maxConversations': return f.maxConversationsUnlimited ? -1 : f.maxConversations
    case 'totalAsks': return f.totalAsksUnlimited ? -1 : f.totalAsks
    case 'modelAsks': return Object.fromEntries(f.modelAsks.map(r => [r.model, r.mode === 'default' ? null : r.mode === 'unlimited' ? -1 : r.count]))
    case 'maxInFlight': return f.maxInFlight
    case 'shareWeight': return f.shareWeight
    case 'rateWindows': return f.rateWindows.map(w => ({ model: w.model, max: w.max, windowSeconds: windowSeconds(w.amount, w.unit) }))
    case 'timeSlots': return f.timeSlots.map(s => ({ ...s }))
  }
}

export const LIMITS_FIELDS: LimitsField[] = ['enabled', 'validUntil', 'allowedModels', 'maxConversations', 'totalAsks', 'modelAsks', 'rateWindows', 'timeSlots', 'maxInFlight', 'shareWeight']

/**
 * The partial update for a form. With `original`, only what changed is sent (so an edit never
 * overwrites a field the admin did not touch; per-model counts only for the models changed);
 * with `only`, exactly those fields (a bulk template).
 */
export function toPatch(f: LimitsForm, opts: { original?: LimitsForm, only?: Iterable<LimitsField> } = {}): LimitsPatch {
  const fields = opts.only ? [...opts.only] : LIMITS_FIELDS
  const patch: Record<string, unknown> = {}
  for (const field of fields) {
    const value = fieldValue(f, field)
    if (!opts.original) {
      patch[field] = value
      continue
    }
    if (field === 'modelAsks') {
      const before = fieldValue(opts.original, 'modelAsks') as Record<string, number | null>
      const changed = Object.entries(value as Record<string, number | null>).filter(([k, v]) => before[k] !== v)
      if (changed.length)
        patch.modelAsks = Object.fromEntries(changed)
    }
    else if (JSON.stringify(value) !== JSON.stringify(fieldValue(opts.original, field))) {
      patch[field] = value
    }
  }
  // A full defaults document has no "default" to fall back to: drop the nulls.
  if (!opts.original && patch.modelAsks)
    patch.modelAsks = Object.fromEntries(Object.entries(patch.modelAsks as Record<string, number | null>).filter(([, v]) => v !== null))
  return patch as LimitsPatch
}

/**
 * The form section a server validation message names (`body.timeSlots[1]: overlaps …`,
 * `body.limits.modelAsks.gpt-4o: …`, `body/totalAsks must be …`), or null.
 */
export function fieldOfError(message: string): LimitsField | null {
  const m = /body(?:[./]limits)?[./](\w+)/.exec(message)
  const f = m?.[1] as LimitsField | undefined
  return f && LIMITS_FIELDS.includes(f) ? f : null
}

/** Whether two daily slots (HH:MM, crossing midnight when end ≤ start) overlap; client-side hint only. */
export function slotsOverlap(a: { start: string, end: string }, b: { start: string, end: string }): boolean {
  const pieces = (s: { start: string, end: string }): Array<[number, number]> => {
    const st = toMinutes(s.start)
    const en = toMinutes(s.end)
    return st < en ? [[st, en]] : [[st, 1440], [0, en]]
  }
  return pieces(a).some(([s1, e1]) => pieces(b).some(([s2, e2]) => s1 < e2 && s2 < e1))
}

function toMinutes(hm: string): number {
  const [h, m] = hm.split(':').map(Number)
  return (h ?? 0) * 60 + (m ?? 0)
}

/** A strong random password for a new member (no look-alike characters). */
export function generatePassword(length = 16): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789'
  const bytes = new Uint32Array(length)
  crypto.getRandomValues(bytes)
  return [...bytes].map(b => alphabet[b % alphabet.length]).join('')
}
