import { useDocumentVisibility, useTimeoutPoll } from '@vueuse/core'
import { computed, watch } from 'vue'
import { useConversationsStore } from '../../../stores/conversations'

export const ANSWERING_POLL_MS = 4000

/**
 * While a listed conversation other than the one open is being answered, looks at the list again
 * every few seconds, so its mark changes (to unread) when the answer ends. Only while needed, and
 * not while the page is hidden. The open conversation follows its own answer's stream.
 */
export function useAnsweringPoll(): void {
  const list = useConversationsStore()
  const visibility = useDocumentVisibility()
  const needed = computed(() => visibility.value !== 'hidden' && list.items.some(c => c.activeRequestId !== null && c.id !== list.openId))
  const { pause, resume } = useTimeoutPoll(() => list.poll(), ANSWERING_POLL_MS, { immediate: false })
  watch(needed, on => (on ? resume() : pause()), { immediate: true })
}
