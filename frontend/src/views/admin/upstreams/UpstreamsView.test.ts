import type { StatusResponse, UpstreamSettings } from '@cws/backend/contracts'
import { flushPromises, mount } from '@vue/test-utils'
import { NDialogProvider, NMessageProvider } from 'naive-ui'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { ApiError } from '../../../api/http'
import { i18n } from '../../../locales'
import { useAppStore } from '../../../stores/app'
import UpstreamsView from './UpstreamsView.vue'

const api = vi.hoisted(() => ({
  getUpstreams: vi.fn(),
  saveUpstreams: vi.fn(),
  revertUpstreams: vi.fn(),
}))
vi.mock('../../../api/settings', () => api)
const statusApi = vi.hoisted(() => ({ getStatus: vi.fn() }))
vi.mock('../../../api/status', () => statusApi)
vi.mock('../../../api/admin', () => ({ getAdminMeta: vi.fn(async () => ({ timezone: 'UTC', models: [] })) }))
vi.mock('vue-router', () => ({ onBeforeRouteLeave: vi.fn() }))

const fromConfig: UpstreamSettings = {
  source: 'config',
  updatedAt: null,
  upstreams: [
    { id: 'api', type: 'openai', baseUrl: 'https://api.openai.com/v1', concurrency: 4, timeoutSeconds: 30, idleTimeoutSeconds: 120, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }], credentialSet: true, accountIdSet: false, sessionTokenSet: false, accounts: [], proxy: null, pacing: null, capShare: null },
    { id: 'demo', type: 'demo', baseUrl: null, concurrency: 2, timeoutSeconds: 30, idleTimeoutSeconds: 120, speed: 400, firstTokenMs: 400, models: [{ key: 'demo', name: 'Demo', slug: 'demo' }], credentialSet: false, accountIdSet: false, sessionTokenSet: false, accounts: [], proxy: null, pacing: null, capShare: null },
  ],
}

/** `/api/status` with the given upstreams' health. */
function statusOf(upstreams: Array<{ id: string, healthy: boolean, reason?: string }>): StatusResponse {
  return {
    queueLength: 0,
    inFlight: 0,
    activeMembers: { last5m: 0, last1h: 0, last1d: 0 },
    upstreams: upstreams.map(u => ({ type: 'openai', concurrency: 1, queueLength: 0, inFlight: 0, avgServiceSeconds: 0, ...u })),
  }
}

function render() {
  const Host = defineComponent(() => () => h(NMessageProvider, null, () => h(NDialogProvider, null, () => h(UpstreamsView))))
  return mount(Host, { global: { plugins: [i18n], stubs: { teleport: true } }, attachTo: document.body })
}

describe('upstreams page', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    useAppStore().setLanguage('en')
    vi.clearAllMocks()
    statusApi.getStatus.mockResolvedValue(statusOf([]))
  })

  it('shows where the upstreams come from and a card each, with the credential state only', async () => {
    api.getUpstreams.mockResolvedValue(fromConfig)
    const w = render()
    await flushPromises()
    await vi.waitFor(() => expect(w.find('[data-testid="upstream-api"]').exists()).toBe(true))
    expect(w.find('[data-testid="upstreams-source"]').text()).toContain('From the config file')
    expect(w.find('[data-testid="revert"]').exists()).toBe(false)
    expect(w.find('[data-testid="upstream-api"] [data-testid="fact-credential"]').text()).toBe('API key set')
    expect(w.find('[data-testid="upstream-demo"] [data-testid="fact-credential"]').exists()).toBe(false)
    expect(w.find('[data-testid="unsaved-bar"]').exists()).toBe(false)
    w.unmount()
  })

  it('reorders in a draft, sends the whole list on save, and lists the server\'s problems when refused', async () => {
    api.getUpstreams.mockResolvedValue(fromConfig)
    api.saveUpstreams.mockRejectedValueOnce(new ApiError({
      code: 'VALIDATION_FAILED',
      status: 400,
      message: 'upstreams[1] (api): an API key is required',
      details: ['upstreams[1] (api): an API key is required'],
    }))
    const w = render()
    await flushPromises()
    await vi.waitFor(() => expect(w.find('[data-testid="upstream-demo"]').exists()).toBe(true))
    await w.find('[data-testid="upstream-demo"] [data-testid="move-up"]').trigger('click')
    expect(w.find('[data-testid="unsaved-bar"]').text()).toContain('Unsaved changes')

    await w.find('[data-testid="save-upstreams"]').trigger('click')
    await flushPromises()
    const sent = api.saveUpstreams.mock.calls[0]![0] as { upstreams: Array<Record<string, unknown>> }
    expect(sent.upstreams.map(u => u.id)).toEqual(['demo', 'api'])
    expect(sent.upstreams[1]).not.toHaveProperty('credential')
    await vi.waitFor(() => expect(w.find('[data-testid="save-error"]').exists()).toBe(true))
    expect(w.find('[data-testid="save-error"]').text()).toContain('Some fields are invalid')
    expect(w.find('[data-testid="save-error"]').text()).toContain('upstreams[1] (api): an API key is required')
    expect(w.find('[data-testid="upstream-api"] [data-testid="tag-fix"]').exists()).toBe(true)

    // Accepted the second time: the draft starts over from the server's answer.
    api.saveUpstreams.mockResolvedValueOnce({ source: 'dashboard', updatedAt: '2030-01-02T03:04:00.000Z', upstreams: [fromConfig.upstreams[1], fromConfig.upstreams[0]] })
    await w.find('[data-testid="save-upstreams"]').trigger('click')
    await flushPromises()
    await vi.waitFor(() => expect(w.find('[data-testid="unsaved-bar"]').exists()).toBe(false))
    expect(w.find('[data-testid="save-error"]').exists()).toBe(false)
    expect(w.find('[data-testid="upstreams-source"]').text()).toContain('Saved from the dashboard')
    expect(w.find('[data-testid="revert"]').exists()).toBe(true)
    w.unmount()
  })

  it('after a save the cards change with the new upstreams\' health, not before it arrives', async () => {
    api.getUpstreams.mockResolvedValue(fromConfig)
    statusApi.getStatus.mockResolvedValueOnce(statusOf([{ id: 'api', healthy: false, reason: 'HTTP 401' }]))
    const w = render()
    await flushPromises()
    const tag = () => w.find('[data-testid="upstream-api"] .head').text()
    await vi.waitFor(() => expect(tag()).toContain('Unhealthy'))

    let answer!: (s: StatusResponse) => void
    statusApi.getStatus.mockReturnValueOnce(new Promise<StatusResponse>((resolve) => {
      answer = resolve
    }))
    api.saveUpstreams.mockResolvedValueOnce({ source: 'dashboard', updatedAt: '2030-01-02T03:04:00.000Z', upstreams: [fromConfig.upstreams[1], fromConfig.upstreams[0]] })
    await w.find('[data-testid="upstream-demo"] [data-testid="move-up"]').trigger('click')
    await w.find('[data-testid="save-upstreams"]').trigger('click')
    await flushPromises()
    // Saved, the health of the new upstreams asked for: the old tags are not shown on the new list.
    expect(statusApi.getStatus).toHaveBeenCalledTimes(2)
    expect(w.find('[data-testid="upstreams-source"]').text()).toContain('From the config file')
    answer(statusOf([{ id: 'api', healthy: true }, { id: 'demo', healthy: true }]))
    await flushPromises()
    await vi.waitFor(() => expect(w.find('[data-testid="upstreams-source"]').text()).toContain('Saved from the dashboard'))
    expect(tag()).toContain('Healthy')
    expect(tag()).not.toContain('Unhealthy')
    expect(w.find('[data-testid="upstream-demo"] .head').text()).toContain('Healthy')
    w.unmount()
  })

  it('a failed load says why in the admin\'s language and retries', async () => {
    useAppStore().setLanguage('zh-CN')
    api.getUpstreams.mockRejectedValueOnce(new ApiError({ code: 'NETWORK_ERROR', status: 0, message: 'x' }))
    const w = render()
    await flushPromises()
    await vi.waitFor(() => expect(w.text()).toContain('无法连接到服务器'))
    api.getUpstreams.mockResolvedValue({ ...fromConfig, upstreams: [] })
    await w.findAll('button').find(b => b.text() === '重试')!.trigger('click')
    await flushPromises()
    await vi.waitFor(() => expect(w.find('[data-testid="upstreams-empty"]').text()).toContain('没有上游'))
    w.unmount()
  })
})
