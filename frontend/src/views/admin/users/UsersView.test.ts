import type { AdminUser } from '@cws/backend/contracts'
import { flushPromises, mount } from '@vue/test-utils'
import { NDialogProvider, NMessageProvider } from 'naive-ui'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { ApiError } from '../../../api/http'
import { i18n } from '../../../locales'
import { useAppStore } from '../../../stores/app'
import UsersView from './UsersView.vue'

const api = vi.hoisted(() => ({
  listUsers: vi.fn(),
  getMemberSummaries: vi.fn(),
  createUser: vi.fn(),
  getAdminMeta: vi.fn(async () => ({ timezone: 'UTC', models: [{ key: 'gpt-4o', name: 'GPT-4o', upstreamId: 'x', isDemo: false }] })),
  deleteUser: vi.fn(),
  logoutEverywhere: vi.fn(),
}))
vi.mock('../../../api/admin', () => api)

function user(id: number, fields: Partial<AdminUser> = {}): AdminUser {
  return {
    id,
    username: `user${id}`,
    nickname: '',
    role: 'member',
    enabled: true,
    preferences: {},
    createdAt: '2024-01-01T00:00:00.000Z',
    lastActiveAt: null,
    remark: '',
    updatedAt: '2024-01-01T00:00:00.000Z',
    activeSessions: 0,
    ...fields,
  } as AdminUser
}

function render() {
  const Host = defineComponent(() => () => h(NMessageProvider, null, () => h(NDialogProvider, null, () => h(UsersView))))
  return mount(Host, { global: { plugins: [i18n], stubs: { teleport: true } }, attachTo: document.body })
}

describe('members page', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    useAppStore().setLanguage('en')
    vi.clearAllMocks()
  })

  it('lists members with their tags and what remains of their asks', async () => {
    api.listUsers.mockResolvedValue({ items: [user(1, { username: 'mia', nickname: 'Mia Chen', enabled: false }), user(2, { username: 'noah' })], total: 2, page: 1, pageSize: 20 })
    api.getMemberSummaries.mockResolvedValue({ items: [
      { userId: 1, limitsEnabled: true, validUntil: '2020-01-01T00:00:00.000Z', expired: true, totalAsks: 12, models: [{ model: 'gpt-4o', name: 'GPT-4o', remaining: 0 }], asks7d: 0, lastAskAt: null },
      { userId: 2, limitsEnabled: true, validUntil: null, expired: false, totalAsks: -1, models: [{ model: 'gpt-4o', name: 'GPT-4o', remaining: -1 }], asks7d: 0, lastAskAt: null },
    ] })
    const w = render()
    await flushPromises()
    await vi.waitFor(() => expect(w.text()).toContain('Mia Chen'))
    expect(api.listUsers).toHaveBeenCalledWith({ q: undefined, sort: 'lastActive', page: 1, pageSize: 20 }, expect.any(AbortSignal))
    expect(api.getMemberSummaries).toHaveBeenCalledWith([1, 2], expect.any(AbortSignal))
    await vi.waitFor(() => expect(w.find('[data-testid="remaining-mia"]').exists()).toBe(true))
    expect(w.find('[data-testid="remaining-mia"]').text()).toContain('Total 12')
    expect(w.find('[data-testid="remaining-mia"]').text()).toContain('GPT-4o 0')
    expect(w.find('[data-testid="remaining-noah"]').text()).toContain('GPT-4o ∞')
    expect(w.text()).toContain('(expired)')
    expect(w.text()).toContain('Disabled')
    expect(w.text()).toContain('2 members')
    w.unmount()
  })

  it('shows a translated error with a retry, and an empty state', async () => {
    api.listUsers.mockRejectedValueOnce(new ApiError({ code: 'NETWORK_ERROR', status: 0, message: 'x' }))
    const w = render()
    await flushPromises()
    await vi.waitFor(() => expect(w.text()).toContain('Cannot reach the server'))
    api.listUsers.mockResolvedValue({ items: [], total: 0, page: 1, pageSize: 20 })
    api.getMemberSummaries.mockResolvedValue({ items: [] })
    const retry = w.findAll('button').find(b => b.text() === 'Try again')!
    await retry.trigger('click')
    await flushPromises()
    await vi.waitFor(() => expect(w.text()).toContain('No members yet'))
    expect(api.listUsers).toHaveBeenCalledTimes(2)
    w.unmount()
  })

  it('a taken username is reported next to the field, in the admin\'s language', async () => {
    api.listUsers.mockResolvedValue({ items: [], total: 0, page: 1, pageSize: 20 })
    api.getMemberSummaries.mockResolvedValue({ items: [] })
    api.createUser.mockRejectedValue(new ApiError({ code: 'USERNAME_TAKEN', status: 409, message: 'taken' }))
    // The app store owns the language (it sets vue-i18n's locale).
    useAppStore().setLanguage('zh-CN')
    const w = render()
    await flushPromises()
    await w.find('[data-testid="create-user"]').trigger('click')
    await flushPromises()
    const dialog = () => document.querySelector('[data-testid="user-dialog"]')
    await vi.waitFor(() => expect(dialog()).not.toBeNull())
    const input = (id: string) => document.getElementById(id) as HTMLInputElement
    input('user-username').value = 'mia'
    input('user-username').dispatchEvent(new Event('input'))
    input('user-password').value = 'a-Strong-pass-123'
    input('user-password').dispatchEvent(new Event('input'))
    ;(document.querySelector('[data-testid="user-dialog-submit"]') as HTMLButtonElement).click()
    await flushPromises()
    await vi.waitFor(() => expect(api.createUser).toHaveBeenCalledWith({ username: 'mia', password: 'a-Strong-pass-123', nickname: undefined, role: 'member', remark: undefined }))
    await vi.waitFor(() => expect(dialog()!.textContent).toContain('该用户名已被使用'))
    w.unmount()
  })
})
