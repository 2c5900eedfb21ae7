import type { PublicUser } from '@cws/backend/contracts'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { useAuthStore } from '../stores/auth'
import { createAppRouter, safeRedirect } from './index'

function user(role: 'admin' | 'member'): PublicUser {
  return { id: 1, username: 'ann', nickname: 'Ann', role, enabled: true, preferences: {}, createdAt: '2024-01-01T00:00:00.000Z', lastActiveAt: null }
}

function answerMe(u: PublicUser | null) {
  vi.stubGlobal('fetch', vi.fn(async () => u
    ? new Response(JSON.stringify({ user: u, limits: null }), { status: 200 })
    : new Response(JSON.stringify({ code: 'UNAUTHORIZED', message: 'x', reqId: 'r' }), { status: 401 })))
}

async function routerAt(path: string) {
  // The app's own router and guard (web history works under happy-dom).
  const r = createAppRouter()
  await r.push(path)
  return r
}

describe('route guard', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    window.history.replaceState(null, '', '/')
  })
  afterEach(() => vi.unstubAllGlobals())

  it('sends a signed-out visitor to login, remembering where they were', async () => {
    answerMe(null)
    const r = await routerAt('/admin?tab=users')
    expect(r.currentRoute.value.name).toBe('login')
    expect(r.currentRoute.value.query.redirect).toBe('/admin?tab=users')
  })

  it('shows the 403 page to a member on admin routes, lets an admin in', async () => {
    answerMe(user('member'))
    expect((await routerAt('/admin')).currentRoute.value.name).toBe('forbidden')
    setActivePinia(createPinia())
    answerMe(user('admin'))
    expect((await routerAt('/admin')).currentRoute.value.name).toBe('admin')
  })

  it('sends a signed-in user away from /login to the redirect target', async () => {
    answerMe(user('member'))
    const r = await routerAt('/login?redirect=%2Fadmin')
    expect(r.currentRoute.value.name).toBe('forbidden')
    expect(useAuthStore().user?.username).toBe('ann')
  })

  it('follows only same-app redirects', () => {
    expect(safeRedirect('/c/123?x=1')).toBe('/c/123?x=1')
    expect(safeRedirect('//evil.example/x')).toBe('/')
    expect(safeRedirect('https://evil.example')).toBe('/')
    expect(safeRedirect('/\\evil.example')).toBe('/')
    expect(safeRedirect(undefined)).toBe('/')
    expect(safeRedirect('/login?redirect=/x')).toBe('/')
  })
})
