import type { NoteFormat } from './poolNotes'
import { useI18n } from 'vue-i18n'
import { clockTime } from './poolNotes'

/** `poolNotes`' translator and clock for the current language (read inside a computed or a render, it follows a language change). */
export function usePoolFormat(): NoteFormat {
  const { t, locale } = useI18n()
  return {
    t: (key, named) => t(key, named ?? {}),
    time: iso => clockTime((value, opts) => new Intl.DateTimeFormat(locale.value, opts).format(value), iso),
  }
}
