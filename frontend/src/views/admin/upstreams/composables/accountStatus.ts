import type { AccountState, AccountStatus } from '@cws/backend/contracts'
import { computed, ref } from 'vue'
import { listAccounts } from '../../../../api/admin'
import { useLatestLoad } from '../../composables/latestLoad'
import { usePolling } from '../../composables/polling'

/** How often the Upstreams page refreshes the accounts' states while it is visible. */
export const ACCOUNTS_POLL_MS = 5000

export type TagType = 'success' | 'warning' | 'error' | 'default'

/** The colour of a state's tag. */
export function stateType(state: AccountState): TagType {
  switch (state) {
    case 'ok': return 'success'
    case 'cooling':
    case 'expiring': return 'warning'
    case 'unauthorized':
    case 'unreachable': return 'error'
    default: return 'default'
  }
}

/** The time a state's line names: until when it cools or expires, since when it is refused or unreachable. */
export function stateTime(a: Pick<AccountStatus, 'state' | 'since' | 'until' | 'tokenExpiresAt'>): string | null {
  switch (a.state) {
    case 'cooling': return a.until
    case 'expiring': return a.until ?? a.tokenExpiresAt
    case 'unauthorized':
    case 'unreachable': return a.since
    default: return null
  }
}

export type Cap = AccountStatus['caps'][number]

/** The cap in force: the lower one the upstream showed, when it did. */
export function capLimit(c: Cap): number {
  return c.learned !== undefined && c.learned < c.asks ? c.learned : c.asks
}

export function accountKey(a: Pick<AccountStatus, 'upstreamId' | 'accountId'>): string {
  return `${a.upstreamId}/${a.accountId}`
}

/** The accounts' states, polled while the page is visible; one account can be replaced (after a test). */
export function useAccountStatus() {
  const items = ref<AccountStatus[]>([])
  const loaded = ref(false)
  const { error, load } = useLatestLoad(async (signal) => {
    const list = await listAccounts(signal)
    if (signal.aborted)
      return
    items.value = list.items
    loaded.value = true
  })
  const { now } = usePolling(load, ACCOUNTS_POLL_MS)

  const byUpstream = computed(() => {
    const out = new Map<string, AccountStatus[]>()
    for (const a of items.value)
      out.set(a.upstreamId, [...(out.get(a.upstreamId) ?? []), a])
    return out
  })

  function replace(a: AccountStatus): void {
    items.value = items.value.map(x => (accountKey(x) === accountKey(a) ? a : x))
  }

  return { items, loaded, error, byUpstream, replace, refresh: now }
}
