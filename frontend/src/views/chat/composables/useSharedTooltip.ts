import type { Ref } from 'vue'
import { onBeforeUnmount, onMounted, ref } from 'vue'

/**
 * One tooltip for all the message action buttons of the thread (instead of an NTooltip per button,
 * hundreds in a long conversation): any element inside `container` with a `data-tip` attribute shows
 * its text above it on hover or keyboard focus. The text follows the attribute while shown
 * ("Copy" → "Copied").
 */
export function useSharedTooltip(container: Ref<HTMLElement | null>, delay = 100) {
  const show = ref(false)
  const text = ref('')
  const x = ref(0)
  const y = ref(0)
  let current: HTMLElement | null = null
  let timer: ReturnType<typeof setTimeout> | null = null
  const watcher = typeof MutationObserver === 'undefined'
    ? null
    : new MutationObserver(() => {
        if (current)
          text.value = current.dataset.tip ?? ''
      })

  function target(event: Event): HTMLElement | null {
    const el = (event.target as Element | null)?.closest?.('[data-tip]') as HTMLElement | null
    return el && container.value?.contains(el) ? el : null
  }

  function open(el: HTMLElement): void {
    if (timer)
      clearTimeout(timer)
    timer = null
    current = el
    watcher?.disconnect()
    watcher?.observe(el, { attributes: true, attributeFilter: ['data-tip'] })
    timer = setTimeout(() => {
      timer = null
      if (current !== el || !el.isConnected)
        return
      const r = el.getBoundingClientRect()
      x.value = r.left + r.width / 2
      y.value = r.top
      text.value = el.dataset.tip ?? ''
      show.value = !!text.value
    }, delay)
  }

  function close(): void {
    if (timer)
      clearTimeout(timer)
    timer = null
    current = null
    watcher?.disconnect()
    show.value = false
  }

  function onOver(event: Event): void {
    const el = target(event)
    if (el && el !== current)
      open(el)
    else if (!el && current)
      close()
  }

  function onOut(event: MouseEvent | FocusEvent): void {
    const to = event.relatedTarget as Node | null
    if (current && (!to || !current.contains(to)))
      close()
  }

  onMounted(() => {
    const el = container.value
    el?.addEventListener('mouseover', onOver, { passive: true })
    el?.addEventListener('mouseout', onOut, { passive: true })
    el?.addEventListener('focusin', onOver)
    el?.addEventListener('focusout', onOut)
    el?.addEventListener('scroll', close, { passive: true })
  })
  onBeforeUnmount(() => {
    const el = container.value
    el?.removeEventListener('mouseover', onOver)
    el?.removeEventListener('mouseout', onOut)
    el?.removeEventListener('focusin', onOver)
    el?.removeEventListener('focusout', onOut)
    el?.removeEventListener('scroll', close)
    close()
  })

  return { show, text, x, y, close }
}
