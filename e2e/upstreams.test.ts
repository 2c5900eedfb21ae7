import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import type { TestPage } from './support/browser'
import type { RunningServer } from './support/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, openAdminPage, pageErrors, screenshot, SKIP_BROWSER_TESTS } from './support/browser'
import { apiAsAdmin, apiLogin, createUser, startServer } from './support/server'

const MEMBER = { username: 'ivy', password: 'e2e-Ivy-Pass-51c0aa' }

interface Settings {
  source: 'config' | 'dashboard'
  updatedAt: string | null
  upstreams: Array<{ id: string, type: string, concurrency: number, speed?: number, models: Array<{ key: string }>, credentialSet: boolean }>
}

/**
 * Admin → Upstreams in a real browser against the real server (no config file: the built-in demo
 * upstream): add a fast demo upstream and ask it as a member, edit it, see a refused save, remove
 * it, revert to the config. Screenshots land in e2e/artifacts/upstreams-*.png.
 */
describe.skipIf(SKIP_BROWSER_TESTS)('admin upstreams in a real browser', () => {
  let server: RunningServer
  let browser: Browser

  const adminPage = (opts: BrowserContextOptions = {}): Promise<TestPage> => openAdminPage(browser, server.url, opts)
  const apiAs = (method: string, pathname: string, body?: unknown): Promise<Response> => apiAsAdmin(server.url, method, pathname, body)
  const settings = async (): Promise<Settings> => (await apiAs('GET', '/api/admin/settings/upstreams')).json() as Promise<Settings>

  /** Asks as the member through the real HTTP API; returns the streamed answer text. */
  async function askAs(model: string, content: string): Promise<string> {
    const cookie = await apiLogin(server.url, MEMBER.username, MEMBER.password)
    const res = await fetch(`${server.url}/api/chat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Cookie': cookie },
      body: JSON.stringify({ model, content }),
    })
    const text = await res.text()
    if (res.status !== 200 || !/^event: done$/m.test(text))
      throw new Error(`the ask with ${model} did not finish: ${res.status} ${text.slice(-500)}`)
    return [...text.matchAll(/^event: delta\ndata: (.+)$/gm)].map(m => (JSON.parse(m[1]!) as { text: string }).text).join('')
  }

  /** A screenshot without a hover tooltip left over from the last click. */
  async function shot(page: Page, name: string): Promise<void> {
    await page.mouse.move(1, 1)
    await screenshot(page, name)
  }

  /** Fills a naive-ui input number and leaves it (the value is taken on blur). */
  async function fillNumber(page: Page, id: string, value: number): Promise<void> {
    const input = page.locator(`#${id}`)
    await input.fill(String(value))
    await input.press('Tab')
  }

  /** Opens the form for a new demo upstream and fills it. */
  async function addDemo(page: Page, id: string, model: { key: string, name: string }): Promise<void> {
    await page.getByTestId('add-upstream').click()
    await page.getByTestId('upstream-drawer').waitFor()
    await page.getByTestId('type-demo').click()
    await page.locator('#upstream-id').fill(id)
    await fillNumber(page, 'upstream-speed', 20_000)
    await fillNumber(page, 'upstream-firstTokenMs', 20)
    await page.getByTestId('model-key-0').fill(model.key)
    await page.getByTestId('model-name-0').fill(model.name)
    await page.getByTestId('model-slug-0').fill('demo')
  }

  beforeAll(async () => {
    // The dashboard saves upstreams on 127.0.0.1 here: allowed by the operator (backend/test/egress.test.ts).
    server = await startServer({ CWS_NETWORK__ALLOW_PRIVATE_UPSTREAMS: 'true' })
    browser = await launchBrowser()
    await createUser(server.url, MEMBER)
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('adds an upstream that a member can ask at once, edits it, shows a refused save, removes it and reverts to the config', async () => {
    const { page, errors, context } = await adminPage()
    await page.goto('/admin')
    await page.getByTestId('admin-tab-admin-upstreams').click()
    await page.waitForURL('**/admin/upstreams')
    const source = page.getByTestId('upstreams-source')
    await source.getByText('From the config file', { exact: true }).waitFor()
    expect(await page.getByTestId('revert').count()).toBe(0)
    const demo = page.getByTestId('upstream-demo')
    await demo.getByText('Demo (offline)').first().waitFor()
    expect(await demo.getByTestId('model-demo').textContent()).toContain('Demo (offline)')
    expect(await demo.getByTestId('fact-concurrency').textContent()).toContain('2')
    await demo.getByText('Healthy').waitFor()
    expect(await page.getByTestId('unsaved-bar').count()).toBe(0)

    // A model key another upstream has: refused in the form, translated, before anything is sent.
    await addDemo(page, 'fast', { key: 'demo', name: 'Again' })
    await page.getByTestId('upstream-done').click()
    await page.getByText('“demo” is already a model of demo').waitFor()
    await page.getByTestId('model-key-0').fill('fast')
    await page.getByTestId('model-name-0').fill('Fast demo')
    await page.getByTestId('upstream-done').click()
    await page.getByTestId('upstream-drawer').waitFor({ state: 'hidden' })

    // In the draft only, until saved.
    const fast = page.getByTestId('upstream-fast')
    await fast.getByTestId('tag-new').waitFor()
    await page.getByTestId('unsaved-bar').getByText('Unsaved changes').waitFor()
    expect((await settings()).upstreams.map(u => u.id)).toEqual(['demo'])
    await shot(page, 'upstreams-draft-light-en')
    await page.getByTestId('save-upstreams').click()
    await page.getByText('Saved and applied').waitFor()
    await source.getByText('Saved from the dashboard', { exact: true }).waitFor()
    await page.getByTestId('unsaved-bar').waitFor({ state: 'detached' })
    expect(await fast.getByTestId('tag-new').count()).toBe(0)
    const saved = await settings()
    expect(saved.source).toBe('dashboard')
    expect(saved.upstreams.map(u => [u.id, u.speed, u.models.map(m => m.key)])).toEqual([['demo', 400, ['demo']], ['fast', 20_000, ['fast']]])

    // The member asks with the new model straight away: no restart.
    const cookie = await apiLogin(server.url, MEMBER.username, MEMBER.password)
    const models = await (await fetch(`${server.url}/api/models`, { headers: { Cookie: cookie } })).json() as { models: Array<{ key: string }> }
    expect(models.models.map(m => m.key)).toEqual(['demo', 'fast'])
    expect((await askAs('fast', 'Hello, fast upstream')).length).toBeGreaterThan(20)

    // Edit: three answers at once.
    await fast.getByTestId('edit').click()
    await page.getByTestId('upstream-drawer').getByText('Edit fast').waitFor()
    await fillNumber(page, 'upstream-concurrency', 3)
    await page.getByTestId('upstream-done').click()
    await fast.getByTestId('tag-changed').waitFor()
    expect(await fast.getByTestId('fact-concurrency').textContent()).toContain('3')
    await page.getByTestId('save-upstreams').click()
    await page.getByTestId('unsaved-bar').waitFor({ state: 'detached' })
    expect((await settings()).upstreams.find(u => u.id === 'fast')?.concurrency).toBe(3)
    await shot(page, 'upstreams-saved-light-en')

    // A save the server refuses: an OpenAI upstream whose key is gone by the time this page saves
    // (another admin saved a list without it). The server's problem is shown, its card marked.
    const withApi = [
      { id: 'demo', type: 'demo', models: [{ key: 'demo', name: 'Demo (offline)', slug: 'demo' }] },
      { id: 'fast', type: 'demo', speed: 20_000, firstTokenMs: 20, concurrency: 3, models: [{ key: 'fast', name: 'Fast demo', slug: 'demo' }] },
      { id: 'api', type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', credential: 'sk-e2e-not-a-real-key', models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }] },
    ]
    expect((await apiAs('PUT', '/api/admin/settings/upstreams', { upstreams: withApi })).status).toBe(200)
    await page.getByRole('button', { name: 'Refresh' }).click()
    const apiCard = page.getByTestId('upstream-api')
    await apiCard.getByText('API key set').waitFor()
    expect((await apiAs('PUT', '/api/admin/settings/upstreams', { upstreams: withApi.map(({ credential: _, ...u }) => u).slice(0, 2) })).status).toBe(200)
    await apiCard.getByTestId('edit').click()
    expect(await page.locator('#upstream-credential').getAttribute('placeholder')).toBe('Leave empty to keep the current key')
    await fillNumber(page, 'upstream-concurrency', 2)
    await page.getByTestId('upstream-done').click()
    await page.getByTestId('upstream-drawer').waitFor({ state: 'hidden' })
    await page.getByTestId('save-upstreams').click()
    const refused = page.getByTestId('save-error')
    await refused.getByText('Some fields are invalid').waitFor()
    expect(await refused.textContent()).toContain('upstreams[2] (api): an API key is required')
    await apiCard.getByTestId('tag-fix').waitFor()
    await shot(page, 'upstreams-refused-light-en')
    // Back to what the server has.
    await page.getByTestId('discard').click()
    await page.getByRole('button', { name: 'Refresh' }).click()
    await apiCard.waitFor({ state: 'detached' })
    await fast.waitFor()

    // Remove the fast upstream (after a confirmation), save: its model is gone for members.
    await fast.getByTestId('remove').click()
    await page.locator('.n-dialog').getByText('Remove fast?').waitFor()
    await page.getByTestId('confirm-remove').click()
    await fast.waitFor({ state: 'detached' })
    await page.getByTestId('unsaved-bar').getByText('To be removed: fast').waitFor()
    await page.getByTestId('save-upstreams').click()
    await page.getByTestId('unsaved-bar').waitFor({ state: 'detached' })
    expect((await settings()).upstreams.map(u => u.id)).toEqual(['demo'])
    const gone = await fetch(`${server.url}/api/chat`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Cookie': cookie }, body: JSON.stringify({ model: 'fast', content: 'still there?' }) })
    expect(gone.status).toBe(400)
    expect((await gone.json() as { code: string }).code).toBe('UNKNOWN_MODEL')

    // Revert to the config file.
    await page.getByTestId('revert').click()
    await page.locator('.n-dialog').getByText('Revert to the config file?').waitFor()
    await page.getByTestId('confirm-revert').click()
    await page.getByText('Reverted').waitFor()
    await source.getByText('From the config file', { exact: true }).waitFor()
    expect(await settings()).toMatchObject({ source: 'config', updatedAt: null })
    expect(await askAs('demo', 'Hello again')).not.toBe('')

    // The refused save is the only failed request.
    expect(pageErrors(errors)).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)'])
    await context.close()
  })

  it('warns before leaving with unsaved changes; dark in Chinese, and on a phone', async () => {
    expect((await apiAs('PUT', '/api/admin/settings/upstreams', { upstreams: [
      { id: 'demo', type: 'demo', models: [{ key: 'demo', name: 'Demo (offline)', slug: 'demo' }] },
      { id: 'web', type: 'chatgpt-web', baseUrl: 'http://127.0.0.1:9/backend-api', credential: 'e2e-token', accountId: 'acc-1', concurrency: 1, models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }, { key: 'o3', name: 'o3', slug: 'o3' }] },
    ] })).status).toBe(200)

    const dark = await adminPage({ colorScheme: 'dark', locale: 'zh-CN' })
    await dark.page.goto('/admin/upstreams')
    await dark.page.getByTestId('upstreams-source').getByText('已在管理后台保存', { exact: true }).waitFor()
    await dark.page.getByTestId('upstream-web').getByText('已设置 access token').waitFor()
    await dark.page.getByTestId('upstream-web').getByTestId('move-up').click()
    await dark.page.getByTestId('unsaved-bar').getByText('有未保存的更改').waitFor()
    await shot(dark.page, 'upstreams-dark-zh-CN')
    await dark.page.getByTestId('upstream-web').getByTestId('edit').click()
    await dark.page.getByTestId('upstream-drawer').getByText('编辑 web').waitFor()
    await shot(dark.page, 'upstreams-form-dark-zh-CN')
    await dark.page.keyboard.press('Escape')
    // Leaving asks first; staying keeps the draft.
    await dark.page.getByTestId('admin-tab-admin-users').click()
    await dark.page.locator('.n-dialog').getByText('不保存就离开？').waitFor()
    await dark.page.locator('.n-dialog').getByRole('button', { name: '取消' }).click()
    expect(dark.page.url()).toContain('/admin/upstreams')
    await dark.page.getByTestId('unsaved-bar').waitFor()
    expect(pageErrors(dark.errors)).toEqual([])
    await dark.context.close()

    const phone = await adminPage({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })
    await phone.page.goto('/admin/upstreams')
    await phone.page.getByTestId('upstream-web').getByText('Account id set').waitFor()
    // All six tabs in view, on 390 px and 360 px phones.
    const nav = phone.page.locator('nav.tabs')
    expect(await nav.evaluate(el => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0)
    const box = await phone.page.getByTestId('admin-tab-admin-upstreams').boundingBox()
    expect(box!.x + box!.width).toBeLessThanOrEqual(390)
    // The page itself never scrolls sideways.
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await phone.page.setViewportSize({ width: 360, height: 740 })
    expect(await nav.evaluate(el => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0)
    await phone.page.setViewportSize({ width: 390, height: 844 })
    await phone.page.getByTestId('upstream-demo').getByTestId('move-down').click()
    await phone.page.getByTestId('unsaved-bar').waitFor()
    await shot(phone.page, 'upstreams-phone-en')
    await phone.page.getByTestId('add-upstream').click()
    await phone.page.getByTestId('upstream-drawer').waitFor()
    expect(Math.round((await phone.page.locator('.n-drawer').boundingBox())?.width ?? 0)).toBe(390)
    await phone.page.getByTestId('upstream-done').click()
    await phone.page.getByText('Required for a new upstream, a new id or a new type').waitFor()
    await shot(phone.page, 'upstreams-form-phone-en')
    expect(pageErrors(phone.errors)).toEqual([])
    await phone.context.close()
  })
})
