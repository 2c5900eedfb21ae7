import type { UpstreamSetting, UpstreamSettingInput, UpstreamType } from '@cws/backend/contracts'
import type { DraftPool, PoolProblem } from './accountsDraft'
import { clonePool, originMoved, poolFromSetting, poolInput, validatePool } from './accountsDraft'

/**
 * The upstreams page edits a draft of the whole list; "Save and apply" sends it in one PUT.
 * Pure helpers (draft ↔ wire, client-side validation, the server's problems) plus a small reactive
 * holder, so the rules are unit-tested without a browser.
 */

/** `fallback`: another model key offered when this one cannot answer now; '' none. */
export interface ModelRow { key: string, name: string, slug: string, fallback?: string }

export interface DraftUpstream {
  /** Local identity (for lists and editing): the id may change. */
  uid: number
  type: UpstreamType
  id: string
  /** '' = none (demo), or OpenAI's default URL. */
  baseUrl: string
  /** null while an input number is cleared. */
  concurrency: number | null
  timeoutSeconds: number | null
  idleTimeoutSeconds: number | null
  /** Demo only. */
  speed: number | null
  firstTokenMs: number | null
  models: ModelRow[]
  /** A new access token / API key typed by the admin; '' keeps the saved one. Never read from the server. */
  credential: string
  /** ChatGPT web: a new account id; '' keeps the saved one. */
  accountId: string
  /** ChatGPT web: remove the saved account id. */
  removeAccountId: boolean
  /** Accounts, proxy, pacing, cap sharing (accountsDraft.ts). */
  pool: DraftPool
}

export const UPSTREAM_TYPES: UpstreamType[] = ['chatgpt-web', 'openai', 'demo']
export const DEFAULT_OPENAI_BASE = 'https://api.openai.com/v1'
export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]*$/
export const MODEL_KEY_PATTERN = /^[\w.:-]+$/
const URL_PATTERN = /^https?:\/\/\S+$/

/** What the server uses when a concurrency is not given (and what a new upstream starts with). */
export function defaultConcurrency(type: UpstreamType): number {
  return type === 'chatgpt-web' ? 1 : type === 'openai' ? 4 : 2
}

/** Bounds the server enforces (contracts/settings.ts). */
export const LIMITS = {
  concurrency: [1, 64],
  timeoutSeconds: [1, 600],
  idleTimeoutSeconds: [1, 3600],
  speed: [1, 1_000_000],
  firstTokenMs: [0, 60_000],
} as const
export type NumberField = keyof typeof LIMITS
export const MAX_MODELS = 50
export const MAX_UPSTREAMS = 32

let nextUid = 1

export function fromSetting(s: UpstreamSetting): DraftUpstream {
  return {
    uid: nextUid++,
    type: s.type,
    id: s.id,
    baseUrl: s.baseUrl ?? '',
    concurrency: s.concurrency,
    timeoutSeconds: s.timeoutSeconds,
    idleTimeoutSeconds: s.idleTimeoutSeconds,
    speed: s.speed ?? 400,
    firstTokenMs: s.firstTokenMs ?? 400,
    models: s.models.map(m => ({ key: m.key, name: m.name, slug: m.slug, fallback: m.fallback ?? '' })),
    credential: '',
    accountId: '',
    removeAccountId: false,
    pool: poolFromSetting(s),
  }
}

export function blankUpstream(type: UpstreamType = 'chatgpt-web'): DraftUpstream {
  return {
    uid: nextUid++,
    type,
    id: '',
    baseUrl: '',
    concurrency: defaultConcurrency(type),
    timeoutSeconds: 30,
    idleTimeoutSeconds: 120,
    speed: 400,
    firstTokenMs: 400,
    models: [{ key: '', name: '', slug: '', fallback: '' }],
    credential: '',
    accountId: '',
    removeAccountId: false,
    pool: poolFromSetting(undefined),
  }
}

export function cloneDraft(d: DraftUpstream): DraftUpstream {
  return { ...d, models: d.models.map(m => ({ ...m })), pool: clonePool(d.pool) }
}

/** A type change in the form: a concurrency still at the old type's default follows the new type. */
export function changeType(d: DraftUpstream, type: UpstreamType): void {
  if (d.concurrency === defaultConcurrency(d.type))
    d.concurrency = defaultConcurrency(type)
  d.type = type
}

/** The wire form of one draft upstream. Credentials only when typed; fields of other types left out. */
export function toInput(d: DraftUpstream): UpstreamSettingInput {
  const input: UpstreamSettingInput = {
    id: d.id.trim(),
    type: d.type,
    concurrency: d.concurrency ?? undefined,
    timeoutSeconds: d.timeoutSeconds ?? undefined,
    idleTimeoutSeconds: d.idleTimeoutSeconds ?? undefined,
    models: d.models.map(m => ({ key: m.key.trim(), name: m.name.trim(), slug: m.slug.trim(), ...(m.fallback ? { fallback: m.fallback } : {}) })),
  }
  if (d.type === 'demo') {
    input.speed = d.speed ?? undefined
    input.firstTokenMs = d.firstTokenMs ?? undefined
    return input
  }
  if (d.baseUrl.trim())
    input.baseUrl = d.baseUrl.trim()
  if (d.credential.trim())
    input.credential = d.credential.trim()
  Object.assign(input, poolInput(d.pool, d.type))
  if (d.type === 'chatgpt-web') {
    if (d.accountId.trim())
      input.accountId = d.accountId.trim()
    else if (d.removeAccountId)
      input.accountId = null
  }
  return input
}

/** The saved upstream whose credentials a draft upstream keeps when none is typed: same id and same type. */
export function savedTwin(d: DraftUpstream, saved: readonly UpstreamSetting[]): UpstreamSetting | undefined {
  const s = saved.find(u => u.id === d.id.trim())
  return s && s.type === d.type ? s : undefined
}

/** The base URL moved to another origin than the saved upstream's: the server keeps no stored credential. */
export function movedOrigin(d: DraftUpstream, saved: readonly UpstreamSetting[]): boolean {
  return originMoved(d, savedTwin(d, saved), DEFAULT_OPENAI_BASE)
}

export type CredentialState = 'none' | 'new' | 'set' | 'missing' | 'pooled'

/**
 * Demo: none; a typed one: new; with accounts: pooled (the accounts hold the credentials); else the
 * saved upstream's (same id and type, same origin): set; otherwise missing.
 */
export function credentialState(d: DraftUpstream, saved: readonly UpstreamSetting[]): CredentialState {
  if (d.type === 'demo')
    return 'none'
  if (d.credential.trim())
    return 'new'
  if (d.pool.accounts.length)
    return 'pooled'
  return !movedOrigin(d, saved) && savedTwin(d, saved)?.credentialSet ? 'set' : 'missing'
}

export type AccountIdState = 'none' | 'new' | 'set' | 'removed'

export function accountIdState(d: DraftUpstream, saved: readonly UpstreamSetting[]): AccountIdState {
  if (d.type !== 'chatgpt-web')
    return 'none'
  if (d.accountId.trim())
    return 'new'
  if (movedOrigin(d, saved) || !savedTwin(d, saved)?.accountIdSet)
    return 'none'
  return d.removeAccountId ? 'removed' : 'set'
}

/**
 * One client-side problem: `field` names the input (`id`, `baseUrl`, `credential`, `concurrency`, …,
 * `models`, `models.2.key`); `key` is the message under `admin.upstreams.problems`.
 */
export interface Problem {
  field: string
  /** A key of `admin.upstreams.problems`, or a path under `admin` (`accounts.problems.…`) for the pool's. */
  key: 'required' | 'idFormat' | 'tooLong' | 'idTaken' | 'urlFormat' | 'credentialRequired' | 'range' | 'modelsRequired' | 'tooManyModels' | 'keyFormat' | 'keyTaken' | 'keyTwice' | PoolProblem['key']
  params?: Record<string, string | number>
}

/** The i18n key of a problem's message. */
export function problemKey(p: Problem): string {
  return p.key.includes('.') ? `admin.${p.key}` : `admin.upstreams.problems.${p.key}`
}

/** Everything the server would refuse that is cheap to check here; `others` are the rest of the list. */
export function validateUpstream(d: DraftUpstream, others: readonly DraftUpstream[], saved: readonly UpstreamSetting[]): Problem[] {
  const problems: Problem[] = []
  const id = d.id.trim()
  if (!id)
    problems.push({ field: 'id', key: 'required' })
  else if (id.length > 40)
    problems.push({ field: 'id', key: 'tooLong', params: { max: 40 } })
  else if (!ID_PATTERN.test(id))
    problems.push({ field: 'id', key: 'idFormat' })
  else if (others.some(o => o.id.trim() === id))
    problems.push({ field: 'id', key: 'idTaken', params: { id } })

  if (d.type !== 'demo') {
    const url = d.baseUrl.trim()
    if (!url && d.type === 'chatgpt-web')
      problems.push({ field: 'baseUrl', key: 'required' })
    else if (url && !URL_PATTERN.test(url))
      problems.push({ field: 'baseUrl', key: 'urlFormat' })
    else if (url.length > 2000)
      problems.push({ field: 'baseUrl', key: 'tooLong', params: { max: 2000 } })
    if (credentialState(d, saved) === 'missing')
      problems.push({ field: 'credential', key: movedOrigin(d, saved) ? 'accounts.problems.movedCredential' : 'credentialRequired' })
    else if (d.credential.trim().length > 8000)
      problems.push({ field: 'credential', key: 'tooLong', params: { max: 8000 } })
  }
  if (d.type === 'chatgpt-web' && d.accountId.trim().length > 200)
    problems.push({ field: 'accountId', key: 'tooLong', params: { max: 200 } })

  const numbers: NumberField[] = d.type === 'demo'
    ? ['concurrency', 'timeoutSeconds', 'idleTimeoutSeconds', 'speed', 'firstTokenMs']
    : ['concurrency', 'timeoutSeconds', 'idleTimeoutSeconds']
  for (const field of numbers) {
    const v = d[field]
    const [min, max] = LIMITS[field]
    if (v === null || !Number.isFinite(v))
      problems.push({ field, key: 'required' })
    else if (!Number.isInteger(v) || v < min || v > max)
      problems.push({ field, key: 'range', params: { min, max } })
  }

  if (!d.models.length)
    problems.push({ field: 'models', key: 'modelsRequired' })
  else if (d.models.length > MAX_MODELS)
    problems.push({ field: 'models', key: 'tooManyModels', params: { max: MAX_MODELS } })
  const otherKeys = new Map(others.flatMap(o => o.models.map(m => [m.key.trim(), o.id.trim()] as const)))
  d.models.forEach((m, i) => {
    const key = m.key.trim()
    if (!key)
      problems.push({ field: `models.${i}.key`, key: 'required' })
    else if (key.length > 64)
      problems.push({ field: `models.${i}.key`, key: 'tooLong', params: { max: 64 } })
    else if (!MODEL_KEY_PATTERN.test(key))
      problems.push({ field: `models.${i}.key`, key: 'keyFormat' })
    else if (d.models.slice(0, i).some(p => p.key.trim() === key))
      problems.push({ field: `models.${i}.key`, key: 'keyTwice', params: { key } })
    else if (otherKeys.has(key))
      problems.push({ field: `models.${i}.key`, key: 'keyTaken', params: { key, upstream: otherKeys.get(key)! } })
    const name = m.name.trim()
    if (!name)
      problems.push({ field: `models.${i}.name`, key: 'required' })
    else if (name.length > 80)
      problems.push({ field: `models.${i}.name`, key: 'tooLong', params: { max: 80 } })
    const slug = m.slug.trim()
    if (!slug)
      problems.push({ field: `models.${i}.slug`, key: 'required' })
    else if (slug.length > 120)
      problems.push({ field: `models.${i}.slug`, key: 'tooLong', params: { max: 120 } })
  })
  const allKeys = new Set([...otherKeys.keys(), ...d.models.map(m => m.key.trim())])
  d.models.forEach((m, i) => {
    if (m.fallback && (m.fallback === m.key.trim() || !allKeys.has(m.fallback)))
      problems.push({ field: `models.${i}.fallback`, key: 'accounts.problems.fallbackSelf' })
  })
  problems.push(...validatePool(d.pool, d.type, savedTwin(d, saved), movedOrigin(d, saved)))
  return problems
}

/** The problems of every upstream of the list, by uid (only those with problems). */
export function validateList(list: readonly DraftUpstream[], saved: readonly UpstreamSetting[]): Map<number, Problem[]> {
  const out = new Map<number, Problem[]>()
  list.forEach((d, i) => {
    // Each upstream is checked against those before it, so a clash is reported once, on the later one.
    const p = validateUpstream(d, list.slice(0, i), saved)
    if (p.length)
      out.set(d.uid, p)
  })
  return out
}

/** One problem the server named, with the upstream of the sent list it is about (when it says). */
export interface ServerProblem { text: string, uid: number | null }

/**
 * The server's `details` of a refused save: English strings from the settings service
 * (`upstreams[1] (web): an access token is required`) or the schema's `{ path, message }`
 * (`/upstreams/1/models/0/key`). `sent` is the list in the order it was sent.
 */
export function serverProblems(details: unknown, sent: readonly DraftUpstream[]): ServerProblem[] {
  if (!Array.isArray(details))
    return []
  return details.map((d): ServerProblem => {
    const text = typeof d === 'string'
      ? d
      : d && typeof d === 'object' && 'message' in d
        ? `${String((d as { path?: unknown }).path ?? '').replace(/^\/?body/, '')} ${String((d as { message: unknown }).message)}`.trim()
        : JSON.stringify(d)
    const m = /upstreams(?:\[(\d+)\]|\/(\d+))/.exec(text)
    const index = m ? Number(m[1] ?? m[2]) : -1
    return { text, uid: sent[index]?.uid ?? null }
  })
}
