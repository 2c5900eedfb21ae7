import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import { i18n } from '../locales'
import { STORAGE_KEYS, useAppStore } from './app'

function freshStore() {
  setActivePinia(createPinia())
  return useAppStore()
}

describe('app store', () => {
  beforeEach(() => {
    localStorage.clear()
    document.documentElement.className = ''
  })

  it('persists the theme across reloads and applies dark mode to the page', async () => {
    const app = freshStore()
    expect(app.themeMode).toBe('system')
    app.setTheme('dark')
    await nextTick()
    expect(localStorage.getItem(STORAGE_KEYS.theme)).toBe('dark')
    expect(app.isDark).toBe(true)
    expect(app.naiveTheme?.name).toBe('dark')
    expect(document.documentElement.classList.contains('dark')).toBe(true)

    const again = freshStore()
    expect(again.themeMode).toBe('dark')
    again.setTheme('light')
    await nextTick()
    expect(again.isDark).toBe(false)
    expect(again.naiveTheme).toBeNull()
    expect(document.documentElement.classList.contains('dark')).toBe(false)
  })

  it('persists the language, switches vue-i18n and naive-ui locales with it', async () => {
    const app = freshStore()
    app.setLanguage('zh-CN')
    await nextTick()
    expect(localStorage.getItem(STORAGE_KEYS.language)).toBe('zh-CN')
    expect(i18n.global.locale.value).toBe('zh-CN')
    expect(app.naiveLocale.name).toBe('zh-CN')
    expect(document.documentElement.lang).toBe('zh-CN')

    const again = freshStore()
    expect(again.language).toBe('zh-CN')
    again.setLanguage('en')
    await nextTick()
    expect(i18n.global.locale.value).toBe('en')
    expect(again.naiveLocale.name).toBe('en-US')
  })

  it('ignores garbage in storage', () => {
    localStorage.setItem(STORAGE_KEYS.theme, 'purple')
    localStorage.setItem(STORAGE_KEYS.language, 'klingon')
    const app = freshStore()
    expect(app.themeMode).toBe('system')
    expect(app.language).toBe('en')
  })

  it('stores nothing but UI state', async () => {
    const app = freshStore()
    app.setTheme('dark')
    app.setLanguage('en')
    app.toggleSidebar()
    await nextTick()
    expect(Object.keys(localStorage).sort()).toEqual(Object.values(STORAGE_KEYS).sort())
  })
})
