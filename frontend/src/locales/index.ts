import type { App } from 'vue'
import type { MessageSchema } from './en'
import { createI18n } from 'vue-i18n'
import { isApiError } from '../api/http'
import en from './en'
import zhCN from './zh-CN'

export type AppLanguage = 'en' | 'zh-CN'
export const LANGUAGES: { value: AppLanguage, label: string }[] = [
  { value: 'en', label: 'English' },
  { value: 'zh-CN', label: '简体中文' },
]

/** zh* → zh-CN, anything else → en. */
export function detectLanguage(candidates: readonly string[] = typeof navigator === 'undefined' ? [] : (navigator.languages?.length ? navigator.languages : [navigator.language])): AppLanguage {
  const first = candidates.find(Boolean)
  return first && first.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
}

export function isAppLanguage(v: unknown): v is AppLanguage {
  return v === 'en' || v === 'zh-CN'
}

export const i18n = createI18n<[MessageSchema], AppLanguage, false>({
  legacy: false,
  locale: 'en',
  fallbackLocale: 'en',
  messages: { 'en': en, 'zh-CN': zhCN },
  missingWarn: false,
  fallbackWarn: false,
})

export function setupI18n(app: App): void {
  app.use(i18n)
}

/** Codes whose message interpolates `{seconds}` itself. */
const WITH_SECONDS = new Set(['LOGIN_THROTTLED'])

/** The translated, actionable text for any error (ApiError codes map to `errors.<CODE>`). */
export function errorMessage(err: unknown): string {
  const { t, te } = i18n.global
  if (!isApiError(err))
    return t('errors.UNKNOWN', { code: err instanceof Error ? err.name : 'ERROR' })
  const key = `errors.${err.code}`
  const seconds = err.retryAfterSeconds
  if (!te(key, 'en'))
    return t('errors.UNKNOWN', { code: err.code })
  if (WITH_SECONDS.has(err.code))
    return t(key, { seconds: seconds ?? 60 })
  const text = t(key)
  return seconds !== undefined && seconds > 0 ? `${text} ${t('common.retryIn', { seconds })}` : text
}
