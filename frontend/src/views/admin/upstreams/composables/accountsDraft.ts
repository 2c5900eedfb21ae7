import type { AccountSetting, AccountSettingInput, CapShareSetting, PacingSetting, UpstreamSetting, UpstreamType } from '@cws/backend/contracts'

/**
 * The pool part of an upstream's draft: its accounts, proxy, pacing and cap sharing. Pure helpers
 * (draft ↔ wire, the write-only rules, client-side checks), unit-tested without a browser.
 *
 * Write-only values (credentials, session tokens, account ids, proxies) are never read from the
 * server: an empty input keeps the saved value of the account with the same id — unless the base URL
 * moved to another origin, where the server keeps nothing and every credential must be typed again.
 */

export interface DraftPacing { minGapSeconds: number | null, perMinute: number | null, jitterSeconds: number | null }
export interface CapRow { model: string, asks: number | null, hours: number | null }

export interface DraftAccount {
  /** Local identity (the id may change). */
  uid: number
  id: string
  /** A new access token / API key; '' keeps the saved one. */
  credential: string
  sessionToken: string
  removeSessionToken: boolean
  /** ChatGPT Team account id. */
  accountId: string
  removeAccountId: boolean
  /** null: the upstream's. */
  concurrency: number | null
  proxy: string
  removeProxy: boolean
  enabled: boolean
  caps: CapRow[]
  pacing: DraftPacing
}

/** `default`: the server's default (equal split under 25 %). */
export type CapShareMode = 'default' | CapShareSetting['mode']
export interface DraftCapShare { mode: CapShareMode, belowPercent: number | null }

export interface DraftPool {
  accounts: DraftAccount[]
  proxy: string
  removeProxy: boolean
  pacing: DraftPacing
  capShare: DraftCapShare
}

export const PACING_LIMITS = { minGapSeconds: [0, 3600], perMinute: [1, 1000], jitterSeconds: [0, 600] } as const
export const CAP_LIMITS = { asks: [1, 100_000], hours: [0.1, 744] } as const
export const MAX_ACCOUNTS = 100
const PROXY_PATTERN = /^(?:https?|socks5h?):\/\/\S+$/
const ACCOUNT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]*$/

let nextUid = 1

function pacingDraft(p: PacingSetting | null): DraftPacing {
  return { minGapSeconds: p?.minGapSeconds ?? null, perMinute: p?.perMinute ?? null, jitterSeconds: p?.jitterSeconds ?? null }
}

/** The wire form of a pacing; undefined when every field is empty (off, or the upstream's). */
export function pacingInput(p: DraftPacing): PacingSetting | undefined {
  const out: PacingSetting = {}
  if (p.minGapSeconds !== null)
    out.minGapSeconds = p.minGapSeconds
  if (p.perMinute !== null)
    out.perMinute = p.perMinute
  if (p.jitterSeconds !== null)
    out.jitterSeconds = p.jitterSeconds
  return Object.keys(out).length ? out : undefined
}

export function accountFromSetting(a: AccountSetting): DraftAccount {
  return {
    uid: nextUid++,
    id: a.id,
    credential: '',
    sessionToken: '',
    removeSessionToken: false,
    accountId: '',
    removeAccountId: false,
    concurrency: a.concurrency,
    proxy: '',
    removeProxy: false,
    enabled: a.enabled,
    caps: Object.entries(a.caps).map(([model, c]) => ({ model, asks: c.asks, hours: c.hours })),
    pacing: pacingDraft(a.pacing),
  }
}

export function blankAccount(id = ''): DraftAccount {
  return { uid: nextUid++, id, credential: '', sessionToken: '', removeSessionToken: false, accountId: '', removeAccountId: false, concurrency: null, proxy: '', removeProxy: false, enabled: true, caps: [], pacing: pacingDraft(null) }
}

/** A free id for a new account: a1, a2, … */
export function nextAccountId(accounts: readonly DraftAccount[]): string {
  for (let n = accounts.length + 1; ; n++) {
    if (!accounts.some(a => a.id.trim() === `a${n}`))
      return `a${n}`
  }
}

export function poolFromSetting(s: UpstreamSetting | undefined): DraftPool {
  return {
    accounts: (s?.accounts ?? []).map(accountFromSetting),
    proxy: '',
    removeProxy: false,
    pacing: pacingDraft(s?.pacing ?? null),
    capShare: s?.capShare ? { mode: s.capShare.mode, belowPercent: s.capShare.belowPercent } : { mode: 'default', belowPercent: 25 },
  }
}

export function clonePool(p: DraftPool): DraftPool {
  return {
    accounts: p.accounts.map(a => ({ ...a, caps: a.caps.map(c => ({ ...c })), pacing: { ...a.pacing } })),
    proxy: p.proxy,
    removeProxy: p.removeProxy,
    pacing: { ...p.pacing },
    capShare: { ...p.capShare },
  }
}

/** A write-only value: typed → it; removal asked → null; else left out (kept). */
function writeOnly(typed: string, remove: boolean): string | null | undefined {
  return typed.trim() ? typed.trim() : remove ? null : undefined
}

export function accountInput(a: DraftAccount, type: UpstreamType): AccountSettingInput {
  const out: AccountSettingInput = { id: a.id.trim(), enabled: a.enabled }
  if (a.credential.trim())
    out.credential = a.credential.trim()
  if (type === 'chatgpt-web') {
    const session = writeOnly(a.sessionToken, a.removeSessionToken)
    if (session !== undefined)
      out.sessionToken = session
    const team = writeOnly(a.accountId, a.removeAccountId)
    if (team !== undefined)
      out.accountId = team
  }
  if (a.concurrency !== null)
    out.concurrency = a.concurrency
  const proxy = writeOnly(a.proxy, a.removeProxy)
  if (proxy !== undefined)
    out.proxy = proxy
  const caps = a.caps.filter(c => c.model && c.asks !== null && c.hours !== null)
  if (caps.length)
    out.caps = Object.fromEntries(caps.map(c => [c.model, { asks: c.asks!, hours: c.hours! }]))
  const pacing = pacingInput(a.pacing)
  if (pacing)
    out.pacing = pacing
  return out
}

/** The pool's fields of an upstream's wire form (none for the demo). */
export function poolInput(p: DraftPool, type: UpstreamType) {
  if (type === 'demo')
    return {}
  const proxy = writeOnly(p.proxy, p.removeProxy)
  return {
    accounts: p.accounts.map(a => accountInput(a, type)),
    ...(proxy !== undefined ? { proxy } : {}),
    pacing: pacingInput(p.pacing) ?? null,
    capShare: p.capShare.mode === 'default' ? null : { mode: p.capShare.mode, belowPercent: p.capShare.belowPercent ?? 25 },
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin
  }
  catch {
    return url
  }
}

/** The base URL moved to another origin than the saved upstream's: nothing stored is kept. */
export function originMoved(d: { type: UpstreamType, baseUrl: string }, twin: UpstreamSetting | undefined, defaultBase: string): boolean {
  if (!twin || d.type === 'demo')
    return false
  return originOf(twin.baseUrl ?? defaultBase) !== originOf(d.baseUrl.trim() || defaultBase)
}

export type WriteOnlyState = 'new' | 'set' | 'removed' | 'none'

/** What a saved account (same id, not moved) holds: the stored flags, else nothing. */
function savedAccount(a: DraftAccount, twin: UpstreamSetting | undefined, moved: boolean): AccountSetting | undefined {
  return moved ? undefined : twin?.accounts.find(s => s.id === a.id.trim())
}

export function accountCredentialState(a: DraftAccount, twin: UpstreamSetting | undefined, moved: boolean): 'new' | 'set' | 'missing' {
  if (a.credential.trim())
    return 'new'
  return savedAccount(a, twin, moved)?.credentialSet ? 'set' : 'missing'
}

export function accountSessionState(a: DraftAccount, twin: UpstreamSetting | undefined, moved: boolean): WriteOnlyState {
  if (a.sessionToken.trim())
    return 'new'
  if (!savedAccount(a, twin, moved)?.sessionTokenSet)
    return 'none'
  return a.removeSessionToken ? 'removed' : 'set'
}

export function accountTeamIdState(a: DraftAccount, twin: UpstreamSetting | undefined, moved: boolean): WriteOnlyState {
  if (a.accountId.trim())
    return 'new'
  if (!savedAccount(a, twin, moved)?.accountIdSet)
    return 'none'
  return a.removeAccountId ? 'removed' : 'set'
}

/** The saved proxy (redacted) a draft account keeps when none is typed, or null. */
export function keptAccountProxy(a: DraftAccount, twin: UpstreamSetting | undefined): string | null {
  if (a.proxy.trim() || a.removeProxy)
    return null
  return twin?.accounts.find(s => s.id === a.id.trim())?.proxy ?? null
}

export interface PoolProblem { field: string, key: string, params?: Record<string, string | number> }

function checkNumber(problems: PoolProblem[], field: string, v: number | null, [min, max]: readonly [number, number], integer: boolean): void {
  if (v === null)
    return
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))
    problems.push({ field, key: 'accounts.problems.number', params: { min, max } })
}

function checkPacing(problems: PoolProblem[], prefix: string, p: DraftPacing): void {
  checkNumber(problems, `${prefix}pacing.minGapSeconds`, p.minGapSeconds, PACING_LIMITS.minGapSeconds, false)
  checkNumber(problems, `${prefix}pacing.perMinute`, p.perMinute, PACING_LIMITS.perMinute, true)
  checkNumber(problems, `${prefix}pacing.jitterSeconds`, p.jitterSeconds, PACING_LIMITS.jitterSeconds, false)
}

/** The pool's problems (fields `accounts.<i>.<field>`, `proxy`, `pacing.<field>`, `capShare.belowPercent`). */
export function validatePool(p: DraftPool, type: UpstreamType, twin: UpstreamSetting | undefined, moved: boolean): PoolProblem[] {
  if (type === 'demo')
    return []
  const problems: PoolProblem[] = []
  if (p.proxy.trim() && !PROXY_PATTERN.test(p.proxy.trim()))
    problems.push({ field: 'proxy', key: 'accounts.problems.proxyFormat' })
  checkPacing(problems, '', p.pacing)
  if (p.capShare.mode !== 'default')
    checkNumber(problems, 'capShare.belowPercent', p.capShare.belowPercent, [1, 100], true)
  p.accounts.forEach((a, i) => {
    const at = `accounts.${i}.`
    const id = a.id.trim()
    if (!id)
      problems.push({ field: `${at}id`, key: 'upstreams.problems.required' })
    else if (id.length > 40)
      problems.push({ field: `${at}id`, key: 'upstreams.problems.tooLong', params: { max: 40 } })
    else if (!ACCOUNT_ID_PATTERN.test(id))
      problems.push({ field: `${at}id`, key: 'upstreams.problems.idFormat' })
    else if (p.accounts.slice(0, i).some(o => o.id.trim() === id))
      problems.push({ field: `${at}id`, key: 'accounts.problems.accountIdTaken', params: { id } })
    const hasCredential = accountCredentialState(a, twin, moved) !== 'missing'
      || (type === 'chatgpt-web' && ['new', 'set'].includes(accountSessionState(a, twin, moved)))
    if (!hasCredential)
      problems.push({ field: `${at}credential`, key: moved ? 'accounts.problems.movedCredential' : type === 'openai' ? 'accounts.problems.accountKey' : 'accounts.problems.accountCredential' })
    else if (a.credential.trim().length > 8000)
      problems.push({ field: `${at}credential`, key: 'upstreams.problems.tooLong', params: { max: 8000 } })
    if (a.proxy.trim() && !PROXY_PATTERN.test(a.proxy.trim()))
      problems.push({ field: `${at}proxy`, key: 'accounts.problems.proxyFormat' })
    checkNumber(problems, `${at}concurrency`, a.concurrency, [1, 64], true)
    a.caps.forEach((c, j) => {
      if (c.asks === null)
        problems.push({ field: `${at}caps.${j}.asks`, key: 'upstreams.problems.required' })
      checkNumber(problems, `${at}caps.${j}.asks`, c.asks, CAP_LIMITS.asks, true)
      if (c.hours === null)
        problems.push({ field: `${at}caps.${j}.hours`, key: 'upstreams.problems.required' })
      checkNumber(problems, `${at}caps.${j}.hours`, c.hours, CAP_LIMITS.hours, false)
    })
    checkPacing(problems, at, a.pacing)
  })
  return problems
}
