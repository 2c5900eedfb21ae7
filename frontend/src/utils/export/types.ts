export interface ExportTurn {
  role: 'user' | 'assistant'
  content: string
  model?: string
  /** done | stopped | error | interrupted | streaming */
  status?: string
}

export interface ExportConversation {
  title: string
  /** ISO date of the conversation (its creation). */
  createdAt: string
  /** Display name of the model. */
  model: string
  turns: ExportTurn[]
}

/** Translated words used in exported files. */
export interface ExportLabels {
  user: string
  assistant: string
  date: string
  model: string
  exportedFrom: string
  untitled: string
  /** e.g. "(stopped)", keyed by message status; absent = nothing shown. */
  status?: Partial<Record<string, string>>
}

/** The export's words in the app's language; `user` names who asked (e.g. "You", or the member). */
export function exportLabels(t: (key: string) => string, user: string): ExportLabels {
  return {
    user,
    assistant: t('chat.assistant'),
    date: t('chat.exportLabels.date'),
    model: t('chat.exportLabels.model'),
    exportedFrom: t('chat.exportLabels.exportedFrom'),
    untitled: t('chat.untitled'),
    status: {
      stopped: `(${t('chat.messageStatus.stopped')})`,
      error: `(${t('chat.messageStatus.error')})`,
      interrupted: `(${t('chat.messageStatus.interrupted')})`,
    },
  }
}

/** A file name without characters that Windows, macOS or Linux refuse. */
export function safeFileName(title: string, ext: string, fallback = 'conversation'): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = title.replace(/[\u0000-\u001F<>:"/\\|?*\u007F]+/g, ' ').replace(/\s+/g, ' ').trim().replace(/^\.+/, '').slice(0, 80).trim()
  return `${cleaned || fallback}.${ext}`
}

export function formatExportDate(iso: string, locale: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime()))
    return iso
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short' }).format(d)
}
