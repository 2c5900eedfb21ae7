import type { Ref } from 'vue'
import { onBeforeUnmount, onMounted, ref } from 'vue'

/**
 * Keeps a scroll container pinned to the bottom while its content grows (streaming), until the
 * member scrolls up; `atBottom` false shows the jump-to-bottom button.
 */
export function useAutoScroll(container: Ref<HTMLElement | null>, content: Ref<HTMLElement | null>, threshold = 80) {
  const stick = ref(true)
  const atBottom = ref(true)
  let lastTop = 0
  let observer: ResizeObserver | null = null
  let programmatic = false

  function distance(el: HTMLElement): number {
    return el.scrollHeight - el.scrollTop - el.clientHeight
  }

  function onScroll(): void {
    const el = container.value
    if (!el)
      return
    const d = distance(el)
    atBottom.value = d <= threshold
    if (programmatic) {
      programmatic = false
    }
    else if (el.scrollTop < lastTop - 2 && d > 4) {
      // The member scrolled up: stop following.
      stick.value = false
    }
    else if (d <= threshold) {
      stick.value = true
    }
    lastTop = el.scrollTop
  }

  function scrollToBottom(smooth = false): void {
    const el = container.value
    if (!el)
      return
    stick.value = true
    programmatic = true
    el.scrollTo({ top: el.scrollHeight, behavior: smooth ? 'smooth' : 'auto' })
    atBottom.value = true
  }

  function follow(): void {
    if (stick.value)
      scrollToBottom()
    else if (container.value)
      atBottom.value = distance(container.value) <= threshold
  }

  onMounted(() => {
    container.value?.addEventListener('scroll', onScroll, { passive: true })
    if (typeof ResizeObserver !== 'undefined') {
      observer = new ResizeObserver(() => follow())
      if (content.value)
        observer.observe(content.value)
      if (container.value)
        observer.observe(container.value)
    }
  })
  onBeforeUnmount(() => {
    container.value?.removeEventListener('scroll', onScroll)
    observer?.disconnect()
  })

  return { stick, atBottom, scrollToBottom, follow }
}
