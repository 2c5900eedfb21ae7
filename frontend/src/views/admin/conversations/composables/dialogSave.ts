import type { Ref } from 'vue'
import { ref, watch } from 'vue'
import { errorMessage } from '../../../../locales'

/**
 * The saving state of a conversation dialog: `save(work)` runs one request at a time, closes the
 * dialog when it succeeds and keeps the translated error on screen when it fails. Opening the
 * dialog again clears the error.
 */
export function useDialogSave(show: Ref<boolean>) {
  const saving = ref(false)
  const error = ref('')

  watch(show, (open) => {
    if (open)
      error.value = ''
  })

  async function save(work: () => Promise<void>): Promise<void> {
    if (saving.value)
      return
    saving.value = true
    error.value = ''
    try {
      await work()
      show.value = false
    }
    catch (err) {
      error.value = errorMessage(err)
    }
    finally {
      saving.value = false
    }
  }

  return { saving, error, save }
}
