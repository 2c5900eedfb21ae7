import { useDocumentVisibility } from '@vueuse/core'
import { onScopeDispose, watch } from 'vue'

/**
 * Runs `task` now and every `ms` while the page is visible (a hidden tab does not poll; it runs again
 * at once when it comes back). A run never overlaps the one before. Stops with the owning scope.
 */
export function usePolling(task: () => Promise<void>, ms: number) {
  const visibility = useDocumentVisibility()
  let timer: ReturnType<typeof setTimeout> | undefined
  let running = false
  let stopped = false

  async function tick(): Promise<void> {
    clearTimeout(timer)
    if (stopped || running)
      return
    running = true
    try {
      await task()
    }
    finally {
      running = false
      if (!stopped && visibility.value !== 'hidden')
        timer = setTimeout(tick, ms)
    }
  }

  watch(visibility, (v) => {
    if (v === 'hidden')
      clearTimeout(timer)
    else
      void tick()
  })
  void tick()
  onScopeDispose(() => {
    stopped = true
    clearTimeout(timer)
  })
  return { now: tick }
}
