/**
 * The accounts of an upstream as configured: its `accounts:` list, or — the common case, and every
 * config written before pools existed — its own credential as a pool of one account, `default`.
 * Base URL, models and timeouts belong to the upstream and are shared by its accounts.
 */
import type { AccountConfig, UpstreamConfig } from '../../config/schema.js'

export type ResolvedAccount = AccountConfig & { concurrency: number }

export const DEFAULT_ACCOUNT = 'default'

export function accountsOf(u: UpstreamConfig): ResolvedAccount[] {
  const concurrency = u.concurrency ?? 1
  if (u.accounts?.length) {
    return u.accounts.map(a => ({
      ...a,
      concurrency: a.concurrency ?? concurrency,
      proxy: a.proxy ?? u.proxy,
      pacing: a.pacing ?? u.pacing,
    }))
  }
  const own: ResolvedAccount = { id: DEFAULT_ACCOUNT, concurrency, proxy: u.proxy, pacing: u.pacing }
  if (u.type === 'chatgpt-web')
    Object.assign(own, { access_token: u.access_token, session_token: u.session_token, account_id: u.account_id })
  if (u.type === 'openai')
    Object.assign(own, { api_key: u.api_key })
  return [own]
}

/** The upstream as one account's provider sees it: the upstream's settings with that account's credential. */
export function upstreamForAccount(u: UpstreamConfig, a: ResolvedAccount): UpstreamConfig {
  const base = { ...u, concurrency: a.concurrency, accounts: undefined }
  if (u.type === 'chatgpt-web')
    return { ...base, type: 'chatgpt-web', base_url: u.base_url, access_token: a.access_token, session_token: a.session_token, account_id: a.account_id }
  if (u.type === 'openai')
    return { ...base, type: 'openai', api_key: a.api_key }
  return base
}

/** The origin's `/api/auth/session`, where chatgpt.com exchanges a session token for an access token. */
export function sessionUrlOf(u: UpstreamConfig): string | undefined {
  if (u.type !== 'chatgpt-web')
    return undefined
  return u.session_url ?? `${new URL(u.base_url).origin}/api/auth/session`
}
