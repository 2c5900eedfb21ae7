import type { MeResponse, Preferences, PublicUser, UpdateMeBody } from '@cws/backend/contracts'
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import * as authApi from '../api/auth'
import { isApiError } from '../api/http'
import { useAppStore } from './app'

/** The signed-in user. The session itself lives in an HttpOnly cookie the SPA never sees. */
export const useAuthStore = defineStore('auth', () => {
  const user = ref<PublicUser | null>(null)
  const limits = ref<MeResponse['limits']>(null)
  /** True once we asked the server who we are (so the router guard asks only once). */
  const loaded = ref(false)
  let pending: Promise<void> | null = null

  const isLoggedIn = computed(() => user.value !== null)
  const isAdmin = computed(() => user.value?.role === 'admin')
  const displayName = computed(() => user.value?.nickname || user.value?.username || '')

  function applyPreferences(prefs: Preferences | undefined): void {
    if (!prefs)
      return
    const app = useAppStore()
    if (prefs.language)
      app.setLanguage(prefs.language)
    if (prefs.theme)
      app.setTheme(prefs.theme)
  }

  function setUser(next: PublicUser | null): void {
    user.value = next
    loaded.value = true
  }

  async function fetchMe(): Promise<PublicUser | null> {
    try {
      const me = await authApi.fetchMe()
      setUser(me.user)
      limits.value = me.limits
      return me.user
    }
    catch (err) {
      if (isApiError(err) && (err.status === 401 || err.status === 403)) {
        setUser(null)
        limits.value = null
        return null
      }
      throw err
    }
  }

  /** Loads the current user once; later calls reuse the answer. Network failures count as signed out. */
  function ensureLoaded(): Promise<void> {
    if (loaded.value)
      return Promise.resolve()
    pending ??= fetchMe()
      .then(() => undefined)
      .catch(() => {
        setUser(null)
      })
      .finally(() => {
        pending = null
      })
    return pending
  }

  async function login(username: string, password: string): Promise<PublicUser> {
    const res = await authApi.login({ username, password })
    setUser(res.user)
    applyPreferences(res.user.preferences)
    // Limits come with /me; fetch them without blocking the redirect.
    void fetchMe().catch(() => {})
    return res.user
  }

  async function logout(): Promise<void> {
    try {
      await authApi.logout()
    }
    catch {
      // The session may already be gone; signing out locally is what matters.
    }
    clear()
  }

  /** Forget the user locally (after a 401 from anywhere, or a logout). */
  function clear(): void {
    setUser(null)
    limits.value = null
  }

  async function updateMe(body: UpdateMeBody): Promise<PublicUser | null> {
    const res = await authApi.updateMe(body)
    if (res?.user) {
      user.value = res.user
      // PATCH answers `limits: null` (it does not recompute them); keep what /me gave.
      if (res.limits !== undefined && res.limits !== null)
        limits.value = res.limits
    }
    else {
      await fetchMe()
    }
    return user.value
  }

  /** Saves UI preferences to the account so they follow the user to other browsers (best effort). */
  async function savePreferences(prefs: Preferences): Promise<void> {
    if (!user.value)
      return
    const merged = { ...user.value.preferences, ...prefs }
    try {
      await updateMe({ preferences: merged })
    }
    catch {
      // Local choice already applied; the server copy catches up next time.
    }
  }

  return { user, limits, loaded, isLoggedIn, isAdmin, displayName, fetchMe, ensureLoaded, login, logout, clear, updateMe, savePreferences, applyPreferences }
})
