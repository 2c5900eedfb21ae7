import type { InjectionKey, Ref } from 'vue'
import { inject, onBeforeUnmount, provide } from 'vue'

/**
 * Lazy rendering of finished Markdown in a long scrolling list (the chat thread): a message's
 * Markdown is rendered only when it comes within `margin` of the scroll container's visible area.
 * One IntersectionObserver for the whole list; the targets that came near are rendered bottom first
 * (the thread opens scrolled to the bottom) in slices of about one frame, so opening a conversation
 * of hundreds of answers never blocks the page for long.
 */
export interface LazyRenderer {
  /** Calls `render` (once) when `el` comes near the visible area; returns the cancel function. */
  observe: (el: Element, render: () => void) => () => void
}

export const LAZY_RENDER_KEY: InjectionKey<LazyRenderer> = Symbol('lazy-render')

/** Time spent rendering per slice before yielding to the browser (ms). */
const SLICE_MS = 12

export function createLazyRenderer(root: Ref<HTMLElement | null>, margin = '1500px 0px'): LazyRenderer & { disconnect: () => void } {
  const targets = new Map<Element, () => void>()
  const due = new Set<Element>()
  let observer: IntersectionObserver | null = null
  let timer: ReturnType<typeof setTimeout> | null = null

  function flush(): void {
    timer = null
    // Bottom first: the newest messages are the ones on screen when a conversation opens.
    const order = [...due].sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? 1 : -1))
    const start = performance.now()
    for (const el of order) {
      if (performance.now() - start > SLICE_MS)
        break
      due.delete(el)
      const render = targets.get(el)
      targets.delete(el)
      observer?.unobserve(el)
      render?.()
    }
    if (due.size)
      timer = setTimeout(flush, 0)
  }

  function onIntersect(entries: IntersectionObserverEntry[]): void {
    for (const e of entries) {
      if (!targets.has(e.target))
        continue
      if (e.isIntersecting)
        due.add(e.target)
      else
        due.delete(e.target) // scrolled away again before its turn
    }
    if (due.size && !timer)
      flush()
  }

  function ensureObserver(): IntersectionObserver | null {
    if (!observer && root.value)
      observer = new IntersectionObserver(onIntersect, { root: root.value, rootMargin: margin })
    return observer
  }

  return {
    observe(el, render) {
      const io = ensureObserver()
      if (!io) {
        render()
        return () => {}
      }
      targets.set(el, render)
      io.observe(el)
      return () => {
        targets.delete(el)
        due.delete(el)
        observer?.unobserve(el)
      }
    },
    disconnect() {
      observer?.disconnect()
      observer = null
      targets.clear()
      due.clear()
      if (timer)
        clearTimeout(timer)
      timer = null
    },
  }
}

/** Provides lazy rendering to the Markdown inside the scroll container `root` (no-op without IntersectionObserver). */
export function provideLazyRender(root: Ref<HTMLElement | null>, margin?: string): void {
  if (typeof IntersectionObserver === 'undefined')
    return
  const renderer = createLazyRenderer(root, margin)
  provide(LAZY_RENDER_KEY, renderer)
  onBeforeUnmount(() => renderer.disconnect())
}

export function useLazyRenderer(): LazyRenderer | null {
  return inject(LAZY_RENDER_KEY, null)
}

/** A placeholder height for Markdown not rendered yet (px), from its line count and length. */
export function estimateHeight(src: string, width = 720): number {
  const charsPerLine = Math.max(30, Math.floor(width / 8.5))
  let height = 0
  let inFence = false
  for (const line of src.split('\n')) {
    if (/^\s*(?:```|~~~)/.test(line)) {
      inFence = !inFence
      height += inFence ? 52 : 16 // the code block's header and padding
      continue
    }
    if (inFence)
      height += 21
    else if (!line.trim())
      height += 8
    else
      height += 27 * Math.max(1, Math.ceil(line.length / charsPerLine))
  }
  return Math.max(24, Math.round(height))
}
