/**
 * The pauses between tries to follow an ask again: 0.5 s, 1 s, 2 s … at most 10 s, cut short when
 * the browser is back online or the page is looked at again (hidden tabs run timers late).
 */
export const RECONNECT_BASE_MS = 500
export const RECONNECT_MAX_MS = 10_000

/** The pause before try number `attempt` (0-based). */
export function reconnectDelay(attempt: number): number {
  return Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempt, 10))
}

export interface RetryWait {
  /**
   * Resolves after `ms`, or at `wake()`; while the browser says it is offline, not before it is
   * back online (a try then could only fail, and each failure is logged in the console).
   */
  wait: (ms: number) => Promise<void>
  wake: () => void
  /** Follows the browser's online/offline and visibility events (`false`: stops). */
  listen: (on: boolean) => void
}

/** `onOffline` is called when the browser loses the network (a connection open now is gone). */
export function createRetryWait(onOffline: () => void): RetryWait {
  let wakeUp: (() => void) | null = null

  function wake(): void {
    wakeUp?.()
  }

  function onVisible(): void {
    if (document.visibilityState === 'visible')
      wake()
  }

  function pause(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms, false)
      function done(woken: boolean): void {
        clearTimeout(timer)
        wakeUp = null
        resolve(woken)
      }
      wakeUp = () => done(true)
    })
  }

  const offline = (): boolean => typeof navigator !== 'undefined' && navigator.onLine === false

  return {
    async wait(ms) {
      let woken = await pause(ms)
      while (!woken && offline())
        woken = await pause(RECONNECT_MAX_MS)
    },
    wake,
    listen(on) {
      if (typeof window === 'undefined')
        return
      if (on) {
        window.addEventListener('online', wake)
        window.addEventListener('offline', onOffline)
        document.addEventListener('visibilitychange', onVisible)
      }
      else {
        window.removeEventListener('online', wake)
        window.removeEventListener('offline', onOffline)
        document.removeEventListener('visibilitychange', onVisible)
      }
    },
  }
}
