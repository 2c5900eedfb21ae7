import { onBeforeUnmount, ref } from 'vue'
import { errorMessage } from '../../../locales'

/**
 * A load that may be started again before it ends: each run gets its own `AbortSignal`, a new run
 * aborts the one before (and unmounting aborts the last), an aborted run leaves no error, and
 * `loading` ends with the latest run only. `task` should return early when its signal was aborted.
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
      if (!(err instanceof DOMException && err.name === 'AbortError'))
        error.value = errorMessage(err)
    }
    finally {
      if (ctl === c)
        loading.value = false
    }
  }

  onBeforeUnmount(() => ctl?.abort())
  return { loading, error, load }
}
