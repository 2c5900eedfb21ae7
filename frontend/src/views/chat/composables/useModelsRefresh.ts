import type { ModelStatus } from '@cws/backend/contracts'
import type { Ref } from 'vue'
import { useDocumentVisibility } from '@vueuse/core'
import { onBeforeUnmount, watch } from 'vue'

/** How often the models (what remains, the shared accounts' state) are read again while the chat is open and visible. */
export const MODELS_REFRESH_MS = 30_000
/** After a cool-down or cap window is due to end: read again this much later (the server's clock may be a little behind). */
const AFTER_DUE_MS = 1_500

/** The earliest moment a model's state is due to change by itself (a cool-down ends, a cap window resets), ms from now. */
export function nextChangeIn(models: readonly ModelStatus[], now = Date.now()): number | null {
  let next: number | null = null
  for (const m of models) {
    for (const iso of [m.pool?.until, m.pool?.groupCap?.resetsAt, m.nextAllowedAt]) {
      const at = iso ? Date.parse(iso) - now : Number.NaN
      if (at > 0 && (next === null || at < next))
        next = at
    }
  }
  return next
}

/**
 * Keeps the models fresh while the chat is open: every 30 s while the tab is visible, at once when
 * it becomes visible again, and just after a cool-down or cap window is due to end (so "back about
 * 15:40" turns into "ok" on time). The chat store also reads them after each answer ended.
 */
export function useModelsRefresh(models: Ref<ModelStatus[]>, load: () => Promise<void>): void {
  const visibility = useDocumentVisibility()
  let timer: ReturnType<typeof setTimeout> | undefined

  async function refresh(): Promise<void> {
    await load()
    schedule()
  }

  function schedule(): void {
    clearTimeout(timer)
    if (visibility.value === 'hidden')
      return
    const due = nextChangeIn(models.value)
    timer = setTimeout(() => void refresh(), due === null ? MODELS_REFRESH_MS : Math.min(MODELS_REFRESH_MS, due + AFTER_DUE_MS))
  }

  // Every new list (from here or after an answer) starts the next wait.
  watch(models, schedule)
  watch(visibility, (v) => {
    if (v === 'visible')
      void refresh()
    else
      clearTimeout(timer)
  })
  void refresh()
  onBeforeUnmount(() => clearTimeout(timer))
}
