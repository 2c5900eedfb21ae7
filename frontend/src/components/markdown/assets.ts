import { shallowRef } from 'vue'

/**
 * What the renderer loads on first use (highlight.js languages, KaTeX): one place that knows which
 * loads are under way, whether the render that is running met something not loaded yet, and a
 * version that goes up each time something arrives (MarkdownContent repaints on it).
 */

/** Goes up by one each time a language or KaTeX has loaded. */
export const assetsVersion = shallowRef(0)

const loading = new Map<string, Promise<void>>()
let missed = false

/** How long a failed load waits before its one retry (a dropped connection on a busy or mobile network). */
const RETRY_MS = 1000

/**
 * Loads `key` once (concurrent and later calls share the first load). A failed load is tried once
 * more after a second; if that fails too it is reported and a later call may try again.
 */
export function loadAsset(key: string, load: () => Promise<unknown>): Promise<void> {
  let p = loading.get(key)
  if (!p) {
    p = load().catch(() => new Promise(resolve => setTimeout(resolve, RETRY_MS)).then(load)).then(
      () => void assetsVersion.value++,
      (err: unknown) => {
        loading.delete(key)
        console.error(`could not load ${key}`, err)
      },
    )
    loading.set(key, p)
  }
  return p
}

/** Called by a rule that rendered a stand-in because what it needs is still loading. */
export function markMissing(): void {
  missed = true
}

/** Runs one render and tells whether it met something not loaded yet (then its result is not final). */
export function trackMissing<T>(render: () => T): { value: T, complete: boolean } {
  missed = false
  const value = render()
  return { value, complete: !missed }
}

/**
 * Resolves once every load has finished, including those started by the repaints the finished ones
 * caused (the renderer, then the languages its first render needs).
 */
export async function assetsSettled(): Promise<void> {
  for (let seen = -1; seen !== loading.size;) {
    seen = loading.size
    await Promise.all(loading.values())
    await new Promise(resolve => setTimeout(resolve, 0))
  }
}
