import type { AdminUser, Limits } from '@cws/backend/contracts'
import type { LimitsTarget } from './LimitsDrawer.vue'
import { flushPromises, mount } from '@vue/test-utils'
import { NMessageProvider } from 'naive-ui'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h, ref } from 'vue'
import { ApiError } from '../../../../api/http'
import { i18n } from '../../../../locales'
import { useAppStore } from '../../../../stores/app'
import LimitsDrawer from './LimitsDrawer.vue'

const LIMITS: Limits = { enabled: true, validUntil: null, allowedModels: null, maxConversations: -1, totalAsks: -1, modelAsks: { 'gpt-4o': 40 }, maxInFlight: 1, rateWindows: [], timeSlots: [], shareWeight: 1 }
const api = vi.hoisted(() => ({
  getAdminMeta: vi.fn(),
  getLimits: vi.fn(),
  getDefaultLimits: vi.fn(),
  patchLimits: vi.fn(),
  applyLimits: vi.fn(),
  putDefaultLimits: vi.fn(),
}))
vi.mock('../../../../api/admin', () => api)

const member = (id: number): AdminUser => ({ id, username: `u${id}`, nickname: '', role: 'member', enabled: true } as AdminUser)
const $ = (sel: string): HTMLElement | null => document.querySelector(sel)

function render(target: LimitsTarget) {
  const show = ref(true)
  const Host = defineComponent(() => () => h(NMessageProvider, null, () => h(LimitsDrawer, { 'show': show.value, 'onUpdate:show': (v: boolean) => (show.value = v), target })))
  const w = mount(Host, { global: { plugins: [i18n] }, attachTo: document.body })
  return { w, show }
}

describe('limits drawer', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    useAppStore().setLanguage('en')
    vi.clearAllMocks()
    document.body.innerHTML = ''
    api.getAdminMeta.mockResolvedValue({ timezone: 'Asia/Shanghai', models: [{ key: 'gpt-4o', name: 'GPT-4o', upstreamId: 'x', isDemo: false }, { key: 'mini', name: 'Mini', upstreamId: 'x', isDemo: false }] })
    api.getLimits.mockResolvedValue(LIMITS)
    api.getDefaultLimits.mockResolvedValue({ ...LIMITS, modelAsks: {} })
  })

  it('a member: shows the time zone, saves only what changed', async () => {
    api.patchLimits.mockResolvedValue(LIMITS)
    const { w, show } = render({ kind: 'user', user: member(7) })
    await vi.waitFor(() => expect($('[data-testid="limits-timeSlots"]')).not.toBeNull())
    expect($('[data-testid="limits-timeSlots"]')!.textContent).toContain('Asia/Shanghai')
    // Nothing changed: no request body fields at all.
    $('[data-testid="limits-save"]')!.click()
    await flushPromises()
    expect(api.patchLimits).not.toHaveBeenCalled()
    expect(show.value).toBe(false)
    w.unmount()
  })

  it('a member: the server\'s validation error is shown and marks its section', async () => {
    api.patchLimits.mockRejectedValue(new ApiError({ code: 'VALIDATION_FAILED', status: 400, message: 'body.totalAsks: must be -1 (unlimited) or a count ≥ 0' }))
    const { w, show } = render({ kind: 'user', user: member(7) })
    await vi.waitFor(() => expect($('[data-testid="limits-totalAsks"]')).not.toBeNull())
    // Turn "unlimited" off for total asks.
    ;($('[data-testid="limits-totalAsks"] [role="switch"]') as HTMLElement).click()
    await flushPromises()
    $('[data-testid="limits-save"]')!.click()
    await flushPromises()
    await vi.waitFor(() => expect($('[data-testid="limits-error"]')).not.toBeNull())
    expect(api.patchLimits).toHaveBeenCalledWith(7, { totalAsks: 100 })
    expect($('[data-testid="limits-error"]')!.textContent).toContain('Some fields are invalid')
    expect($('[data-testid="limits-error"]')!.textContent).toContain('body.totalAsks')
    expect($('[data-testid="limits-totalAsks"]')!.className).toContain('invalid')
    expect(show.value).toBe(true)
    w.unmount()
  })

  it('several members: only the ticked limits go into the template', async () => {
    api.applyLimits.mockResolvedValue({ updated: [1, 2] })
    const { w } = render({ kind: 'bulk', users: [member(1), member(2)] })
    await vi.waitFor(() => expect($('[data-testid="include-enabled"]')).not.toBeNull())
    expect(($('[data-testid="limits-save"]') as HTMLButtonElement).disabled).toBe(true)
    ;($('[data-testid="include-enabled"]') as HTMLElement).click()
    ;($('[data-testid="limits-enabled"] [role="switch"]') as HTMLElement).click()
    await flushPromises()
    ;($('[data-testid="limits-save"]') as HTMLElement).click()
    await flushPromises()
    expect(api.applyLimits).toHaveBeenCalledWith([1, 2], { enabled: false })
    w.unmount()
  })

  it('the defaults: a full document without "default" per model', async () => {
    api.putDefaultLimits.mockResolvedValue(LIMITS)
    const { w } = render({ kind: 'defaults' })
    await vi.waitFor(() => expect($('[data-testid="limits-save"]')).not.toBeNull())
    await vi.waitFor(() => expect($('[data-testid="limits-modelAsks"]')).not.toBeNull())
    ;($('[data-testid="limits-save"]') as HTMLElement).click()
    await flushPromises()
    expect(api.putDefaultLimits).toHaveBeenCalledWith({ ...LIMITS, modelAsks: { 'gpt-4o': -1, 'mini': -1 } })
    w.unmount()
  })
})
