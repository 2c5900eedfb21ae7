import { describe, expect, it } from 'vitest'
import { ERROR_STATUS } from '../../../backend/src/lib/errors'
import { ApiError } from '../api/http'
import en from './en'
import { detectLanguage, errorMessage, i18n } from './index'
import zhCN from './zh-CN'

interface Tree { [k: string]: string | Tree }

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [`${prefix}${k}`] : keys(v, `${prefix}${k}.`)))
}
function get(tree: Tree, path: string): unknown {
  return path.split('.').reduce<unknown>((node, k) => (node && typeof node === 'object' ? (node as Tree)[k] : undefined), tree)
}
function placeholders(s: string): string[] {
  return [...s.matchAll(/\{(\w+)\}/g)].map(m => m[1]!).sort()
}

describe('i18n', () => {
  it('zh-CN has exactly the keys of en, each non-empty, with the same placeholders', () => {
    const enKeys = keys(en as Tree)
    expect(keys(zhCN as Tree).sort()).toEqual([...enKeys].sort())
    for (const k of enKeys) {
      const zh = get(zhCN as Tree, k)
      expect(typeof zh === 'string' && zh.trim().length > 0, k).toBe(true)
      expect(placeholders(zh as string), k).toEqual(placeholders(get(en as Tree, k) as string))
    }
  })

  it('translates every backend error code, in both languages, plus the client-side ones', () => {
    const codes = [...Object.keys(ERROR_STATUS), 'NETWORK_ERROR', 'STREAM_INTERRUPTED', 'UNKNOWN']
    const missing = codes.flatMap(c => [en, zhCN].flatMap((m, i) => (typeof (m.errors as Record<string, string>)[c] === 'string' ? [] : [`${i ? 'zh-CN' : 'en'}: errors.${c}`])))
    expect(missing).toEqual([])
  })

  it('errorMessage translates by code, interpolates the throttling wait, and falls back for unknown codes', () => {
    i18n.global.locale.value = 'en'
    expect(errorMessage(new ApiError({ code: 'INVALID_CREDENTIALS', status: 401, message: 'x' }))).toBe('Wrong username or password.')
    expect(errorMessage(new ApiError({ code: 'LOGIN_THROTTLED', status: 429, message: 'x', retryAfterSeconds: 42 }))).toBe('Too many attempts. Try again in 42 s.')
    expect(errorMessage(new ApiError({ code: 'RATE_LIMITED', status: 429, message: 'x', retryAfterSeconds: 5 }))).toMatch(/Try again in 5 s\.$/)
    expect(errorMessage(new ApiError({ code: 'SOMETHING_NEW', status: 500, message: 'x' }))).toContain('SOMETHING_NEW')
    expect(errorMessage(new Error('boom'))).toContain('Something went wrong')

    i18n.global.locale.value = 'zh-CN'
    expect(errorMessage(new ApiError({ code: 'LOGIN_THROTTLED', status: 429, message: 'x', retryAfterSeconds: 9 }))).toBe('尝试次数过多，请在 9 秒后重试。')
    expect(errorMessage(new ApiError({ code: 'NETWORK_ERROR', status: 0, message: 'x' }))).toContain('无法连接')
    i18n.global.locale.value = 'en'
  })

  it('picks the language from the browser: zh* → zh-CN, anything else → en', () => {
    expect(detectLanguage(['zh-TW', 'en'])).toBe('zh-CN')
    expect(detectLanguage(['zh'])).toBe('zh-CN')
    expect(detectLanguage(['en-GB'])).toBe('en')
    expect(detectLanguage(['fr-FR', 'zh-CN'])).toBe('en')
    expect(detectLanguage([])).toBe('en')
  })
})
