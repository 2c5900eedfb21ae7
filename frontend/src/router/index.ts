import type { App } from 'vue'
import type { LocationQueryValue, Router } from 'vue-router'
import { createRouter, createWebHistory } from 'vue-router'
import { onUnauthorized } from '../api/http'
import { i18n } from '../locales'
import { useAuthStore } from '../stores/auth'
import { routes } from './routes'

/** Only same-app paths are followed after login (no `//evil.example` open redirects). */
export function safeRedirect(value: LocationQueryValue | LocationQueryValue[] | undefined): string {
  const v = Array.isArray(value) ? value[0] : value
  if (typeof v !== 'string' || !v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\') || v.startsWith('/login'))
    return '/'
  return v
}

export function createAppRouter(): Router {
  const router = createRouter({
    history: createWebHistory(import.meta.env.BASE_URL),
    routes,
    scrollBehavior: () => ({ top: 0 }),
  })

  router.beforeEach(async (to) => {
    const auth = useAuthStore()
    await auth.ensureLoaded()
    if (to.name === 'login')
      return auth.isLoggedIn ? safeRedirect(to.query.redirect) : true
    if (to.meta.public)
      return true
    if (!auth.isLoggedIn)
      return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
    if (to.matched.some(r => r.meta.requiresAdmin) && !auth.isAdmin)
      return { name: 'forbidden', query: { from: to.fullPath } }
    return true
  })

  router.afterEach((to) => {
    const key = [...to.matched].reverse().find(r => r.meta.title)?.meta.title
    const name = i18n.global.t('app.name')
    document.title = key ? `${i18n.global.t(key)} · ${name}` : name
  })

  // A 401 from any API call means the session is gone: forget the user and go to login.
  onUnauthorized(() => {
    const auth = useAuthStore()
    const wasLoggedIn = auth.isLoggedIn
    auth.clear()
    const current = router.currentRoute.value
    if (wasLoggedIn && !current.meta.public)
      void router.replace({ name: 'login', query: { redirect: current.fullPath, expired: '1' } })
  })

  return router
}

export function setupRouter(app: App): Router {
  const router = createAppRouter()
  app.use(router)
  return router
}
