import type { AdminConversationSummary } from '@cws/backend/contracts'
import { flushPromises, mount } from '@vue/test-utils'
import { NDialogProvider, NMessageProvider, NSelect } from 'naive-ui'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'
import { ApiError } from '../../../api/http'
import { i18n } from '../../../locales'
import { useAppStore } from '../../../stores/app'
import ConversationsView from './ConversationsView.vue'

const api = vi.hoisted(() => ({
  listConversations: vi.fn(),
  getConversation: vi.fn(),
  updateConversation: vi.fn(),
  deleteConversation: vi.fn(),
  listUsers: vi.fn(),
  getAdminMeta: vi.fn(async () => ({ timezone: 'UTC', models: [{ key: 'gpt-4o', name: 'GPT-4o', upstreamId: 'main', isDemo: false }] })),
}))
vi.mock('../../../api/admin', () => api)

const MIA = { id: 7, username: 'mia', nickname: 'Mia Chen' }
const NOAH = { id: 8, username: 'noah', nickname: '' }
function conv(id: string, fields: Partial<AdminConversationSummary> = {}): AdminConversationSummary {
  return { id, title: `Chat ${id}`, model: 'gpt-4o', createdAt: '2024-05-06T07:00:00.000Z', updatedAt: new Date().toISOString(), activeRequestId: null, upstreamId: 'main', owner: MIA, messageCount: 4, ...fields }
}
const page = (items: AdminConversationSummary[], total = items.length) => ({ items, total, nextCursor: null })
const $ = (sel: string): HTMLElement | null => document.querySelector(sel)
/** Picks an entry of the open dropdown menu. */
function pick(label: string): void {
  ;([...document.querySelectorAll('.n-dropdown-option-body')].find(o => o.textContent?.includes(label)) as HTMLElement).click()
}
const button = (text: string): HTMLButtonElement | undefined => [...document.querySelectorAll('button')].find(b => b.textContent?.trim() === text)

async function render(path = '/admin/conversations') {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/admin/conversations', component: { render: () => null } }] })
  await router.push(path)
  const Host = defineComponent(() => () => h(NMessageProvider, null, () => h(NDialogProvider, null, () => h(ConversationsView))))
  const w = mount(Host, { global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return { w, router }
}

describe('admin conversations page', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    useAppStore().setLanguage('en')
    vi.clearAllMocks()
    document.body.innerHTML = ''
    api.listUsers.mockResolvedValue({ items: [{ ...MIA }, { ...NOAH }], total: 2, page: 1, pageSize: 20 })
  })

  it('lists conversations with their owner, model, size; searching asks the server', async () => {
    api.listConversations.mockResolvedValue(page([conv('c1'), conv('c2', { title: '', owner: NOAH, messageCount: 1 })], 2))
    const { w, router } = await render()
    await vi.waitFor(() => expect(w.text()).toContain('Chat c1'))
    expect(api.listConversations).toHaveBeenCalledWith({ page: 1, limit: 20 }, expect.any(AbortSignal))
    const table = w.find('[data-testid="conversations-table"]').text()
    expect(table).toContain('Mia Chen')
    expect(table).toContain('noah')
    expect(table).toContain('GPT-4o')
    expect(table).toContain('New chat') // an untitled one
    expect(w.text()).toContain('2 conversations')

    api.listConversations.mockResolvedValue(page([]))
    await w.find('[data-testid="conversation-search"] input').setValue('  kyoto ')
    await vi.waitFor(() => expect(api.listConversations).toHaveBeenLastCalledWith({ page: 1, limit: 20, q: 'kyoto' }, expect.any(AbortSignal)))
    await vi.waitFor(() => expect(w.text()).toContain('No conversation matches these filters.'))
    await vi.waitFor(() => expect(router.currentRoute.value.query).toEqual({ q: 'kyoto' }))
    w.unmount()
  })

  it('clicking an owner filters to them, and the filter is in the URL', async () => {
    api.listConversations.mockResolvedValue(page([conv('c1')]))
    const { w, router } = await render()
    await vi.waitFor(() => expect(w.find('[data-testid="owner-c1"]').exists()).toBe(true))
    await w.find('[data-testid="owner-c1"]').trigger('click')
    await vi.waitFor(() => expect(api.listConversations).toHaveBeenLastCalledWith({ page: 1, limit: 20, userId: 7 }, expect.any(AbortSignal)))
    await vi.waitFor(() => expect(router.currentRoute.value.query).toEqual({ user: '7' }))
    expect(w.find('[data-testid="conversation-member"]').text()).toContain('mia (Mia Chen)')
    w.unmount()
  })

  it('shows a translated error with a retry, then the empty state', async () => {
    api.listConversations.mockRejectedValueOnce(new ApiError({ code: 'NETWORK_ERROR', status: 0, message: 'x' }))
    const { w } = await render()
    await vi.waitFor(() => expect(w.text()).toContain('Cannot reach the server'))
    api.listConversations.mockResolvedValue(page([]))
    button('Try again')!.click()
    await vi.waitFor(() => expect(w.text()).toContain('No conversations yet.'))
    expect(api.listConversations).toHaveBeenCalledTimes(2)
    w.unmount()
  })

  it('deletes after a confirmation naming the conversation and its owner', async () => {
    api.listConversations.mockResolvedValue(page([conv('c1')]))
    api.deleteConversation.mockResolvedValue(undefined)
    const { w } = await render()
    await vi.waitFor(() => expect(w.find('[data-testid="more-c1"]').exists()).toBe(true))
    await w.find('[data-testid="more-c1"]').trigger('click')
    await vi.waitFor(() => expect($('.n-dropdown-option-body')).not.toBeNull())
    pick('Delete')
    await vi.waitFor(() => expect($('.n-dialog')?.textContent).toContain('“Chat c1” of Mia Chen is deleted'))
    expect(api.deleteConversation).not.toHaveBeenCalled()
    api.listConversations.mockResolvedValue(page([]))
    ;($('[data-testid="confirm-delete"]') as HTMLButtonElement).click()
    await vi.waitFor(() => expect(api.deleteConversation).toHaveBeenCalledWith('c1'))
    await vi.waitFor(() => expect(document.body.textContent).toContain('“Chat c1” of Mia Chen was deleted'))
    await vi.waitFor(() => expect(w.text()).toContain('No conversations yet.'))
    w.unmount()
  })

  it('pages with the table\'s pager; a filter goes back to page 1; deleting the last row of the last page steps back', async () => {
    let total = 21
    api.listConversations.mockImplementation(async ({ page: p, limit }: { page: number, limit: number }) => {
      const from = (p - 1) * limit
      return page(Array.from({ length: Math.max(0, Math.min(limit, total - from)) }, (_, i) => conv(`c${from + i + 1}`)), total)
    })
    api.deleteConversation.mockImplementation(async () => {
      total -= 1
    })
    const { w } = await render()
    await vi.waitFor(() => expect(w.find('[data-testid="open-c20"]').exists()).toBe(true))
    /** Clicks a page in the table's pager, once it is enabled (it is not while the table loads). */
    async function pageTo(n: number): Promise<void> {
      await vi.waitFor(() => expect($('.n-data-table__pagination .n-pagination:not(.n-pagination--disabled)')).not.toBeNull())
      ;([...document.querySelectorAll('.n-data-table__pagination .n-pagination-item')].find(el => el.textContent === String(n)) as HTMLElement).click()
    }
    await pageTo(2)
    await vi.waitFor(() => expect(w.find('[data-testid="open-c21"]').exists()).toBe(true))
    expect(api.listConversations).toHaveBeenLastCalledWith({ page: 2, limit: 20 }, expect.any(AbortSignal))

    api.listConversations.mockClear()
    await w.find('[data-testid="owner-c21"]').trigger('click')
    await vi.waitFor(() => expect(w.find('[data-testid="open-c1"]').exists()).toBe(true))
    expect(api.listConversations).toHaveBeenCalledTimes(1)
    expect(api.listConversations).toHaveBeenCalledWith({ page: 1, limit: 20, userId: 7 }, expect.any(AbortSignal))

    await pageTo(2)
    await vi.waitFor(() => expect(w.find('[data-testid="more-c21"]').exists()).toBe(true))
    await w.find('[data-testid="more-c21"]').trigger('click')
    await vi.waitFor(() => expect($('.n-dropdown-option-body')).not.toBeNull())
    pick('Delete')
    await vi.waitFor(() => expect($('[data-testid="confirm-delete"]')).not.toBeNull())
    ;($('[data-testid="confirm-delete"]') as HTMLButtonElement).click()
    await vi.waitFor(() => expect(api.deleteConversation).toHaveBeenCalledWith('c21'))
    await vi.waitFor(() => expect(api.listConversations).toHaveBeenLastCalledWith({ page: 1, limit: 20, userId: 7 }, expect.any(AbortSignal)))
    await vi.waitFor(() => expect(w.find('[data-testid="open-c20"]').exists()).toBe(true))
    expect(document.querySelector('.n-data-table__pagination')).toBeNull() // everything fits on one page now
    w.unmount()
  }, 20_000)

  it('gives a conversation to another member; the current owner is not offered', async () => {
    api.listConversations.mockResolvedValue(page([conv('c1')]))
    api.updateConversation.mockResolvedValue(conv('c1', { owner: NOAH }))
    const { w } = await render()
    await vi.waitFor(() => expect(w.find('[data-testid="more-c1"]').exists()).toBe(true))
    await w.find('[data-testid="more-c1"]').trigger('click')
    await vi.waitFor(() => expect($('.n-dropdown-option-body')).not.toBeNull())
    pick('Give to another member')
    await vi.waitFor(() => expect($('[data-testid="reassign-dialog"]')).not.toBeNull())
    const submit = $('[data-testid="reassign-submit"]') as HTMLButtonElement
    expect(submit.disabled).toBe(true)
    // The member select (searched on the server) offers everyone but the current owner.
    const select = w.findAllComponents(NSelect).find(c => c.props('placeholder') === 'Choose a member')!
    await vi.waitFor(() => expect(select.props('options')).toEqual([{ label: 'noah', value: 8 }]))
    select.vm.$emit('update:value', 8)
    await vi.waitFor(() => expect(submit.disabled).toBe(false))
    submit.click()
    await vi.waitFor(() => expect(api.updateConversation).toHaveBeenCalledWith('c1', { ownerId: 8 }))
    await vi.waitFor(() => expect(document.body.textContent).toContain('“Chat c1” now belongs to noah'))
    expect(api.listConversations).toHaveBeenCalledTimes(2)
    w.unmount()
  })

  it('renames; a server refusal stays in the dialog', async () => {
    api.listConversations.mockResolvedValue(page([conv('c1')]))
    api.updateConversation.mockRejectedValueOnce(new ApiError({ code: 'NOT_FOUND', status: 404, message: 'x' }))
    const { w } = await render()
    await vi.waitFor(() => expect(w.find('[data-testid="rename-c1"]').exists()).toBe(true))
    await w.find('[data-testid="rename-c1"]').trigger('click')
    await vi.waitFor(() => expect($('#conversation-title')).not.toBeNull())
    const input = $('#conversation-title') as HTMLInputElement
    expect(input.value).toBe('Chat c1')
    input.value = '  Trip to Kyoto '
    input.dispatchEvent(new Event('input'))
    await flushPromises()
    ;($('[data-testid="rename-submit"]') as HTMLButtonElement).click()
    await vi.waitFor(() => expect($('[data-testid="rename-dialog"]')?.textContent).toContain('That no longer exists'))
    expect(api.updateConversation).toHaveBeenCalledWith('c1', { title: 'Trip to Kyoto' })
    api.updateConversation.mockResolvedValue(conv('c1', { title: 'Trip to Kyoto' }))
    ;($('[data-testid="rename-submit"]') as HTMLButtonElement).click()
    await vi.waitFor(() => expect(document.body.textContent).toContain('Renamed to “Trip to Kyoto”'))
    w.unmount()
  })

  it('views a conversation read-only: the latest branch, each message with its role', async () => {
    // Answers render their Markdown when they come near the visible area: here, at once.
    vi.stubGlobal('IntersectionObserver', class {
      constructor(private cb: (entries: Partial<IntersectionObserverEntry>[]) => void) {}
      observe(target: Element): void {
        queueMicrotask(() => this.cb([{ target, isIntersecting: true }]))
      }

      unobserve(): void {}
      disconnect(): void {}
    })
    api.listConversations.mockResolvedValue(page([conv('c1')]))
    const at = '2024-05-06T07:00:00.000Z'
    const m = (id: string, parentId: string | null, role: 'user' | 'assistant', content: string) => ({ id, parentId, role, content, status: 'done', model: 'gpt-4o', finishReason: null, errorCode: null, createdAt: at, updatedAt: at })
    api.getConversation.mockResolvedValue({ ...conv('c1'), messageCount: 3, messages: [m('q', null, 'user', 'What is **2+2**?'), m('a1', 'q', 'assistant', 'Old answer'), m('a2', 'q', 'assistant', 'It is **4**.')] })
    const { w } = await render()
    await vi.waitFor(() => expect(w.find('[data-testid="view-c1"]').exists()).toBe(true))
    await w.find('[data-testid="view-c1"]').trigger('click')
    await vi.waitFor(() => expect(document.querySelectorAll('[data-testid^="view-message-"]')).toHaveLength(2))
    expect(api.getConversation).toHaveBeenCalledWith('c1', expect.any(AbortSignal))
    const [question, answer] = [...document.querySelectorAll('[data-testid^="view-message-"]')] as HTMLElement[]
    expect(question!.dataset.testid).toBe('view-message-user')
    expect(question!.textContent).toContain('Mia Chen')
    expect(question!.textContent).toContain('What is **2+2**?') // a question is shown as typed
    expect(answer!.textContent).toContain('Assistant')
    await vi.waitFor(() => expect(answer!.querySelector('.md-body strong')?.textContent).toBe('4'))
    expect($('[data-testid="conversation-drawer"]')!.textContent).not.toContain('Old answer')
    expect($('[data-testid="conversation-drawer"]')!.textContent).toContain('Showing the latest branch: 2 of 3 messages')
    expect($('[data-testid="conversation-meta"]')!.textContent).toContain('main')
    w.unmount()
    vi.unstubAllGlobals()
  })
})
