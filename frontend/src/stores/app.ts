import type { GlobalThemeOverrides } from 'naive-ui'
import type { AppLanguage } from '../locales'
import { useLocalStorage, usePreferredDark } from '@vueuse/core'
import { darkTheme, dateEnUS, dateZhCN, enUS, zhCN } from 'naive-ui'
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { detectLanguage, i18n, isAppLanguage } from '../locales'

export type ThemeMode = 'light' | 'dark' | 'system'
export type ProfileTab = 'account' | 'usage' | 'preferences' | 'password'

export const STORAGE_KEYS = {
  theme: 'cws.theme',
  language: 'cws.language',
  sidebarCollapsed: 'cws.sidebarCollapsed',
} as const

const BRAND = '#10a37f'

const lightOverrides: GlobalThemeOverrides = {
  common: {
    primaryColor: BRAND,
    primaryColorHover: '#1bb28c',
    primaryColorPressed: '#0d8a6b',
    primaryColorSuppl: '#1bb28c',
    borderRadius: '8px',
    fontFamily: 'Inter, -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", sans-serif',
  },
}

const darkOverrides: GlobalThemeOverrides = {
  common: {
    ...lightOverrides.common,
    primaryColor: '#19c39a',
    primaryColorHover: '#3dd3ad',
    primaryColorPressed: '#12a07e',
    primaryColorSuppl: '#3dd3ad',
    bodyColor: '#151618',
    cardColor: '#1d1e21',
    modalColor: '#1d1e21',
    popoverColor: '#24262a',
    borderColor: 'rgba(255, 255, 255, 0.09)',
    dividerColor: 'rgba(255, 255, 255, 0.08)',
  },
  Layout: { color: '#151618', siderColor: '#101113', headerColor: '#101113' },
  Drawer: { color: '#101113' },
}

/** UI state kept in this browser: theme, language, sidebar. Never credentials. */
export const useAppStore = defineStore('app', () => {
  const storedTheme = useLocalStorage<ThemeMode>(STORAGE_KEYS.theme, 'system')
  const storedLanguage = useLocalStorage<AppLanguage>(STORAGE_KEYS.language, detectLanguage())
  const sidebarCollapsed = useLocalStorage<boolean>(STORAGE_KEYS.sidebarCollapsed, false)

  const themeMode = computed<ThemeMode>({
    get: () => (['light', 'dark', 'system'].includes(storedTheme.value) ? storedTheme.value : 'system'),
    set: v => void (storedTheme.value = v),
  })
  const language = computed<AppLanguage>({
    get: () => (isAppLanguage(storedLanguage.value) ? storedLanguage.value : 'en'),
    set: v => void (storedLanguage.value = v),
  })

  const prefersDark = usePreferredDark()
  const isDark = computed(() => themeMode.value === 'dark' || (themeMode.value === 'system' && prefersDark.value))
  const naiveTheme = computed(() => (isDark.value ? darkTheme : null))
  const themeOverrides = computed(() => (isDark.value ? darkOverrides : lightOverrides))
  const naiveLocale = computed(() => (language.value === 'zh-CN' ? zhCN : enUS))
  const naiveDateLocale = computed(() => (language.value === 'zh-CN' ? dateZhCN : dateEnUS))

  // The profile dialog is opened from several places (user menu, chat settings later).
  const profileOpen = ref(false)
  const profileTab = ref<ProfileTab>('account')
  function openProfile(tab: ProfileTab = 'account'): void {
    profileTab.value = tab
    profileOpen.value = true
  }

  function setTheme(mode: ThemeMode): void {
    themeMode.value = mode
  }
  function setLanguage(lang: AppLanguage): void {
    language.value = lang
  }
  function toggleSidebar(): void {
    sidebarCollapsed.value = !sidebarCollapsed.value
  }

  watch(language, (lang) => {
    i18n.global.locale.value = lang
    if (typeof document !== 'undefined')
      document.documentElement.lang = lang
  }, { immediate: true })

  watch(isDark, (dark) => {
    if (typeof document === 'undefined')
      return
    document.documentElement.classList.toggle('dark', dark)
    document.documentElement.classList.toggle('light', !dark)
    document.documentElement.style.colorScheme = dark ? 'dark' : 'light'
  }, { immediate: true })

  return {
    themeMode,
    language,
    sidebarCollapsed,
    isDark,
    naiveTheme,
    themeOverrides,
    naiveLocale,
    naiveDateLocale,
    profileOpen,
    profileTab,
    openProfile,
    setTheme,
    setLanguage,
    toggleSidebar,
  }
})
