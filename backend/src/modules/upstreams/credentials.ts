import type { UpstreamConfig } from '../../config/schema.js'
import { accountsOf } from './accounts.js'

/** Every credential of a list of upstreams (API keys, access and session tokens, of every account). */
export function credentialsOf(list: UpstreamConfig[]): Set<string> {
  return new Set(list.flatMap(u => accountsOf(u).flatMap(a => [a.api_key, a.access_token, a.session_token]))
    .filter((c): c is string => !!c))
}

/** Whether `after` dropped a credential `before` had (replaced, removed, reverted). */
export function droppedCredential(before: UpstreamConfig[], after: UpstreamConfig[]): boolean {
  const kept = credentialsOf(after)
  return [...credentialsOf(before)].some(c => !kept.has(c))
}
