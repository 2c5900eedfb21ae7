import type { AccountAlert, AccountState } from '@cws/backend/contracts'
import { useLocalStorage } from '@vueuse/core'
import { computed, ref } from 'vue'
import { listAlerts } from '../../../api/admin'
import { useLatestLoad } from './latestLoad'
import { usePolling } from './polling'

/** States the banner tells the admin about (with what to do). */
export const ALERTING: readonly AccountState[] = ['unauthorized', 'unreachable', 'expiring', 'cooling']
export type AlertingState = 'unauthorized' | 'unreachable' | 'expiring' | 'cooling'
export const ALERTS_POLL_MS = 10_000
const DISMISSED_KEY = 'cws.admin.dismissedAlerts'
const KEEP_DISMISSED = 200

/**
 * The alerts to show: the newest alert of each account (the list is newest first), when it says the
 * account is in trouble and the admin has not dismissed that alert. An account that recovered has a
 * newer `ok` alert, so its old one is gone; a new alert (a new id) shows again even if an older one
 * of the same account was dismissed.
 */
export function visibleAlerts(items: readonly AccountAlert[], dismissed: readonly number[]): Array<AccountAlert & { state: AlertingState }> {
  const seen = new Set<string>()
  const out: Array<AccountAlert & { state: AlertingState }> = []
  for (const a of items) {
    const key = `${a.upstreamId}/${a.accountId}`
    if (seen.has(key))
      continue
    seen.add(key)
    if (ALERTING.includes(a.state) && !dismissed.includes(a.id))
      out.push(a as AccountAlert & { state: AlertingState })
  }
  return out
}

/** The banner's state: alerts polled while the page is visible; dismissals remembered in this browser. */
export function useAccountAlerts() {
  const items = ref<AccountAlert[]>([])
  const dismissed = useLocalStorage<number[]>(DISMISSED_KEY, [])
  const { load } = useLatestLoad(async (signal) => {
    // The banner is a bonus: a failed poll keeps what it showed and tries again next time.
    const list = await listAlerts(signal).catch(() => null)
    if (list && !signal.aborted)
      items.value = list.items
  })
  usePolling(load, ALERTS_POLL_MS)

  const visible = computed(() => visibleAlerts(items.value, dismissed.value))

  function dismiss(id: number): void {
    dismissed.value = [...dismissed.value.filter(x => x !== id), id].slice(-KEEP_DISMISSED)
  }

  return { visible, dismiss }
}
