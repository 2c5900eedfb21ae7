/**
 * Reads a provider's event stream for one ask until it ends, the ask is stopped, or the upstream
 * goes quiet for too long. Whatever ends it, the upstream request is aborted.
 */
import type { AskInput, Provider, ProviderEvent } from '../providers/types.js'
import { ProviderError } from '../providers/types.js'
import { Stopped } from './outcome.js'

/** Safety net above the provider's own idle timeout: a provider that neither yields nor throws is cut. */
const IDLE_MARGIN_MS = 5000

export interface ReadOptions {
  provider: Provider
  input: Omit<AskInput, 'signal'>
  /** Aborted by a stop; also aborted here when reading ends for another reason. */
  controller: AbortController
  idleTimeoutSeconds: number
  onEvent: (ev: ProviderEvent) => void
}

/** Resolves when the provider finished; rejects with Stopped, a ProviderError or the provider's error. */
export async function readProvider(o: ReadOptions): Promise<void> {
  const { controller } = o
  const signal = controller.signal
  const iterator = o.provider.ask({ ...o.input, signal })[Symbol.asyncIterator]()
  // Each step waits for the provider, our stop, or the idle cut, whichever comes first. One small
  // promise per step (not Promise.race against long-lived promises, which keeps a reaction per
  // chunk alive for the whole answer).
  let cut: ((err: unknown) => void) | undefined
  let cutReason: unknown
  const cutWith = (err: unknown): void => {
    if (cutReason === undefined)
      cutReason = err
    cut?.(cutReason)
  }
  const abortListener = (): void => cutWith(new Stopped())
  signal.addEventListener('abort', abortListener, { once: true })
  const idleTimer = setTimeout(() => cutWith(new ProviderError('UPSTREAM_TIMEOUT', 'The upstream stopped answering.')), o.idleTimeoutSeconds * 1000 + IDLE_MARGIN_MS)
  idleTimer.unref?.()
  const step = (): Promise<IteratorResult<ProviderEvent>> => new Promise((resolve, reject) => {
    if (cutReason !== undefined)
      return reject(cutReason)
    cut = reject
    iterator.next().then(resolve, reject)
  })
  try {
    if (signal.aborted)
      throw new Stopped()
    while (true) {
      const next = await step()
      idleTimer.refresh()
      if (next.done)
        break
      o.onEvent(next.value)
      if (next.value.type === 'done')
        break
    }
  }
  catch (err) {
    // Abort the upstream call whatever made us leave (our stop, idle cut, provider error).
    if (!signal.aborted)
      controller.abort(err)
    void iterator.return?.(undefined)?.catch(() => {})
    throw err
  }
  finally {
    cut = undefined
    clearTimeout(idleTimer)
    signal.removeEventListener('abort', abortListener)
  }
}
