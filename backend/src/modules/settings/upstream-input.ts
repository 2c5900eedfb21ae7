/**
 * From what the dashboard sends (`UpstreamSettingInput`) to the config form of an upstream, merging
 * the write-only values (credentials, session tokens, account ids, proxies) the admin left empty from
 * the upstream — and the account — of the same id in effect now.
 *
 * Security rule: a stored credential never follows a base URL to another origin (scheme, host, port).
 * When the origin changes, nothing stored is kept (access tokens, API keys, session tokens, account
 * ids, the session URL); whatever is needed must be entered again, and the save says what. Proxies are
 * kept: their credentials are the proxy's, never sent to the upstream.
 */
import type { AccountConfig, PacingConfig, UpstreamConfig } from '../../config/schema.js'
import type { AccountSettingInput, PacingSetting, UpstreamSettingInput } from '../../contracts/settings.js'
import { DEFAULT_OPENAI_BASE } from '../providers/openai/openai.provider.js'

function originOf(url: string): string {
  try {
    return new URL(url).origin
  }
  catch {
    return url
  }
}

function pacingConfig(p: PacingSetting): PacingConfig | undefined {
  const out: PacingConfig = { min_gap_seconds: p.minGapSeconds, per_minute: p.perMinute, jitter_seconds: p.jitterSeconds }
  return Object.values(out).some(v => v !== undefined) ? out : undefined
}

/** A write-only value: typed → it; '' or omitted → the stored one; null → none. */
function writeOnly(input: string | null | undefined, stored: string | undefined): string | undefined {
  if (input === null)
    return undefined
  return input?.trim() || stored
}

function accountConfig(input: AccountSettingInput, prev: AccountConfig | undefined, type: 'chatgpt-web' | 'openai', where: string, moved: boolean, problems: string[]): AccountConfig {
  const credential = input.credential?.trim() || undefined
  const out: AccountConfig = {
    id: input.id,
    concurrency: input.concurrency,
    proxy: writeOnly(input.proxy, prev?.proxy),
    enabled: input.enabled,
    caps: input.caps && Object.keys(input.caps).length ? input.caps : undefined,
    pacing: input.pacing ? pacingConfig(input.pacing) : undefined,
  }
  const kept = moved ? undefined : prev
  if (type === 'openai') {
    out.api_key = credential ?? kept?.api_key
    if (!out.api_key)
      problems.push(`${where}: ${moved ? 'the base URL moved to another host, so enter this account\'s API key again' : 'an API key is required'}`)
    return out
  }
  out.access_token = credential ?? kept?.access_token
  // A new access token typed without a session token starts over: the old session token is dropped only when asked (null).
  out.session_token = writeOnly(input.sessionToken, kept?.session_token)
  out.account_id = writeOnly(input.accountId, kept?.account_id)
  if (!out.access_token && !out.session_token)
    problems.push(`${where}: ${moved ? 'the base URL moved to another host, so enter this account\'s access token (or session token) again' : 'an access token (or a session token) is required'}`)
  return out
}

/** The config form of one input; `problems` gets what must be entered (the schema checks the rest). */
export function toConfig(input: UpstreamSettingInput, current: UpstreamConfig | undefined, index: number, problems: string[]): Record<string, unknown> {
  const where = `upstreams[${index}] (${input.id})`
  const kept = current?.type === input.type ? current : undefined
  const moved = !!kept && kept.type !== 'demo' && originOf(kept.base_url ?? DEFAULT_OPENAI_BASE) !== originOf(input.baseUrl ?? DEFAULT_OPENAI_BASE)
  const same = moved ? undefined : kept
  const common: Record<string, unknown> = {
    id: input.id,
    type: input.type,
    concurrency: input.concurrency,
    timeout_seconds: input.timeoutSeconds,
    idle_timeout_seconds: input.idleTimeoutSeconds,
    models: input.models.map(m => ({ key: m.key, name: m.name, slug: m.slug, ...(m.fallback ? { fallback: m.fallback } : {}) })),
    proxy: input.proxy === undefined || input.proxy === '' ? kept?.proxy : input.proxy ?? undefined,
    pacing: input.pacing === undefined ? kept?.pacing : (input.pacing && pacingConfig(input.pacing)) ?? undefined,
    cap_share: input.capShare === undefined ? kept?.cap_share : (input.capShare && { mode: input.capShare.mode, below_percent: input.capShare.belowPercent }) ?? undefined,
  }
  if (input.type === 'demo')
    return { ...common, proxy: undefined, pacing: undefined, cap_share: undefined, speed: input.speed, first_token_ms: input.firstTokenMs }

  let accounts: AccountConfig[] | undefined
  if (input.accounts === undefined) {
    accounts = same?.accounts
    if (moved && kept?.accounts?.length)
      problems.push(`${where}: the base URL moved to another host, so enter the credential of every account again (${kept.accounts.map(a => a.id).join(', ')})`)
  }
  else {
    accounts = input.accounts.map((a, j) => accountConfig(a, kept?.accounts?.find(p => p.id === a.id), input.type as 'chatgpt-web' | 'openai', `${where} account ${a.id} (accounts[${j}])`, moved, problems))
  }
  // A pool left out while moving is reported above, once.
  const pooled = !!accounts?.length || (input.accounts === undefined && !!kept?.accounts?.length)
  const credential = input.credential?.trim() || undefined

  if (input.type === 'chatgpt-web') {
    const web = same?.type === 'chatgpt-web' ? same : undefined
    const token = credential ?? web?.access_token
    const session = credential ? undefined : web?.session_token
    if (!pooled && !token && !session)
      problems.push(`${where}: ${moved ? 'the base URL moved to another host, so enter the access token again' : 'an access token is required'}`)
    const accountId = input.accountId === null ? undefined : input.accountId ?? web?.account_id
    return { ...common, accounts, base_url: input.baseUrl, access_token: token, account_id: accountId, session_token: session, session_url: web?.session_url }
  }
  const api = same?.type === 'openai' ? same : undefined
  const key = credential ?? api?.api_key
  if (!pooled && !key)
    problems.push(`${where}: ${moved ? 'the base URL moved to another host, so enter the API key again' : 'an API key is required'}`)
  return { ...common, accounts, base_url: input.baseUrl, api_key: key }
}
