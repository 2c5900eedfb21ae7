import { onScopeDispose, ref } from 'vue'
import { errorMessage } from '../../../locales'

/**
 * A load that may be started again before it ends: each run gets its own `AbortSignal`, a new run
 * aborts the one before (and the end of the owning component or scope aborts the last), a run that
 * was aborted leaves no error — even one that fails late for another reason — and `loading` ends with
 * the latest run only. `task` should return early when its signal was aborted.
 */
export function useLatestLoad(task: (signal: AbortSignal) => Promise<void>) {
  const loading = ref(false)
  const error = ref('')
  let ctl: AbortController | null = null

  async function load(): Promise<void> {
    ctl?.abort()
    const c = ctl = new AbortController()
    loading.value = true
    error.value = ''
    try {
      await task(c.signal)
    }
    catch (err) {
      if (!c.signal.aborted && !(err instanceof DOMException && err.name === 'AbortError'))
        error.value = errorMessage(err)
    }
    finally {
      if (ctl === c)
        loading.value = false
    }
  }

  onScopeDispose(() => ctl?.abort())
  return { loading, error, load }
}
