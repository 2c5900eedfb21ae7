import type { Browser, Page } from 'playwright-core'
import type { RunningServer } from './support/server'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, loginThroughForm, newPage, screenshot, SKIP_BROWSER_TESTS } from './support/browser'
import { ADMIN, apiLogin, startServer } from './support/server'

const UPSTREAMS = [{
  id: 'demo',
  type: 'demo',
  speed: 4000,
  first_token_ms: 50,
  models: [{ key: 'demo', name: 'Demo', slug: 'demo' }, { key: 'demo-pro', name: 'Demo Pro', slug: 'demo-pro' }],
}]
const NEW_MEMBER = { username: 'noah', nickname: 'Noah Park' }

/**
 * Console errors that are the page's fault. Chromium logs `net::ERR_NETWORK_CHANGED` when the host's
 * network interfaces change under it (containers started on a shared machine); not ours.
 */
const pageErrors = (errors: string[]): string[] => errors.filter(e => !e.includes('net::ERR_NETWORK_CHANGED'))

/**
 * The admin dashboard in a real browser against the real server: members, limits, the member's
 * view of them, disabling, and the overview. Screenshots land in e2e/artifacts/admin-*.png.
 */
describe.skipIf(SKIP_BROWSER_TESTS)('admin dashboard in a real browser', () => {
  let server: RunningServer
  let browser: Browser
  let memberPassword = ''

  const api = async <T>(pathname: string): Promise<T> => {
    const cookie = await apiLogin(server.url, ADMIN.username, ADMIN.password)
    const res = await fetch(`${server.url}${pathname}`, { headers: { Cookie: cookie } })
    expect(res.status, pathname).toBe(200)
    return res.json() as Promise<T>
  }

  async function adminPage(opts: Parameters<typeof newPage>[2] = {}): Promise<Awaited<ReturnType<typeof newPage>>> {
    const p = await newPage(browser, server.url, { colorScheme: 'light', ...opts })
    await p.page.goto('/login')
    await loginThroughForm(p.page, ADMIN.username, ADMIN.password)
    await p.page.waitForURL(url => !url.pathname.startsWith('/login'))
    return p
  }

  /** Picks an option of the naive-ui select inside `scope`. */
  async function choose(page: Page, scope: string, option: string): Promise<void> {
    await page.locator(`${scope} .n-base-selection`).first().click()
    await page.locator('.n-base-select-option', { hasText: option }).first().click()
  }

  beforeAll(async () => {
    const configFile = path.join(mkdtempSync(path.join(tmpdir(), 'cws-e2e-config-')), 'config.yaml')
    writeFileSync(configFile, JSON.stringify({ upstreams: UPSTREAMS, limits: { timezone: 'Europe/Berlin' } }))
    // info: the server log page shows each request's lines.
    server = await startServer({ CWS_CONFIG: configFile, CWS_LOG__LEVEL: 'info' })
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('creates a member from the members page, with a generated password', async () => {
    const { page, errors, context } = await adminPage()
    await page.goto('/admin/users')
    await page.getByTestId('users-table').waitFor()
    await page.getByTestId('create-user').click()
    const dialog = page.getByTestId('user-dialog')
    await dialog.waitFor()
    await page.locator('#user-username').fill(NEW_MEMBER.username)
    await page.getByTestId('generate-password').click()
    memberPassword = await page.locator('#user-password').inputValue()
    expect(memberPassword).toMatch(/^[A-Z2-9]{16}$/i)
    await page.locator('#user-nickname').fill(NEW_MEMBER.nickname)
    await page.getByTestId('user-dialog-submit').click()
    await dialog.waitFor({ state: 'hidden' })
    await page.getByTestId('users-table').getByText(NEW_MEMBER.nickname).waitFor()
    // Remaining asks: unlimited by default, per model.
    await expect.poll(() => page.getByTestId(`remaining-${NEW_MEMBER.username}`).textContent()).toContain('Demo ∞')

    // The same username again: the server's USERNAME_TAKEN, translated, next to the field.
    await page.getByTestId('create-user').click()
    await page.locator('#user-username').fill(NEW_MEMBER.username)
    await page.locator('#user-password').fill('another-Pass-9911')
    await page.getByTestId('user-dialog-submit').click()
    await page.getByText('That username is already taken').waitFor()
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })

    await screenshot(page, 'admin-members-light-en')
    // The refused duplicate is the only failed request.
    expect(pageErrors(errors)).toEqual(['console: Failed to load resource: the server responded with a status of 409 (Conflict)'])
    await context.close()
  })

  it('sets the member\'s asks for a model in the limits editor; the member sees the count', async () => {
    const { page, errors, context } = await adminPage()
    await page.goto('/admin/users')
    await page.getByTestId(`limits-${NEW_MEMBER.username}`).click()
    const drawer = page.getByTestId('limits-drawer')
    await drawer.waitFor()
    await page.getByTestId('limits-modelAsks').waitFor()
    await choose(page, '[data-testid="model-asks-demo"]', 'A number')
    const input = page.locator('[data-testid="model-asks-demo"] .n-input-number input')
    await input.fill('3')
    await input.press('Tab')
    // An overlapping pair of daily hours is refused by the server, shown next to the form.
    await page.getByText('Add hours').click()
    await page.getByText('Add hours').click()
    await page.getByText('These hours overlap').waitFor()
    await screenshot(page, 'admin-limits-light-en')
    await page.getByTestId('limits-save').click()
    await page.getByTestId('limits-error').waitFor()
    expect(await page.getByTestId('limits-error').textContent()).toContain('timeSlots[1]')
    expect(await page.getByTestId('limits-timeSlots').getAttribute('class')).toContain('invalid')
    // Remove both slots again and save.
    await page.locator('[data-testid="limits-timeSlots"] button[aria-label="Remove"]').first().click()
    await page.locator('[data-testid="limits-timeSlots"] button[aria-label="Remove"]').first().click()
    await page.getByTestId('limits-save').click()
    await drawer.waitFor({ state: 'hidden' })
    await expect.poll(() => page.getByTestId(`remaining-${NEW_MEMBER.username}`).textContent()).toContain('Demo 3')

    const users = await api<{ items: Array<{ id: number, username: string }> }>(`/api/admin/users?q=${NEW_MEMBER.username}`)
    const id = users.items[0]!.id
    const limits = await api<{ modelAsks: Record<string, number>, timeSlots: unknown[] }>(`/api/admin/users/${id}/limits`)
    expect(limits.modelAsks).toEqual({ demo: 3 })
    expect(limits.timeSlots).toEqual([])
    // The one refused save is the only failed request.
    expect(pageErrors(errors)).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)'])
    await context.close()

    // The member, in a browser of their own: the model picker shows what is left.
    const member = await newPage(browser, server.url, { colorScheme: 'light' })
    await member.page.goto('/login')
    await loginThroughForm(member.page, NEW_MEMBER.username, memberPassword)
    await member.page.getByTestId('composer-input').waitFor()
    await expect.poll(() => member.page.getByTestId('model-picker').textContent()).toContain('3 left')
    const models = await (await member.page.request.get('/api/models')).json() as { models: Array<{ key: string, remaining: { model: number } }> }
    expect(models.models.find(m => m.key === 'demo')?.remaining.model).toBe(3)

    // One ask, so that the overview has something to show.
    await member.page.getByTestId('composer-input').fill('Hello from the admin test')
    await member.page.getByTestId('composer-input').press('Enter')
    await expect.poll(() => member.page.getByTestId('message-assistant').last().getAttribute('data-status'), { timeout: 20_000 }).toBe('done')
    await expect.poll(async () => ((await (await member.page.request.get('/api/models')).json()) as typeof models).models.find(m => m.key === 'demo')?.remaining.model).toBe(2)
    expect(pageErrors(member.errors)).toEqual([])
    await member.context.close()
  })

  it('disabling the member sends their next navigation to the login page', async () => {
    const member = await newPage(browser, server.url)
    await member.page.goto('/login')
    await loginThroughForm(member.page, NEW_MEMBER.username, memberPassword)
    await member.page.getByTestId('composer-input').waitFor()

    const { page, errors, context } = await adminPage()
    await page.goto('/admin/users')
    await page.getByTestId(`edit-${NEW_MEMBER.username}`).click()
    await page.getByTestId('user-dialog').waitFor()
    await page.getByTestId('user-enabled').click()
    await page.getByText('Saving ends every session').waitFor()
    await page.getByTestId('user-dialog-submit').click()
    await page.getByTestId('user-dialog').waitFor({ state: 'hidden' })
    await expect.poll(() => page.getByTestId('users-table').textContent()).toContain('Disabled')
    expect(pageErrors(errors)).toEqual([])
    await context.close()

    await member.page.goto('/')
    await member.page.waitForURL(/\/login/)
    await member.context.close()
  })

  it('the overview shows the day\'s numbers, upstream health and the chart, in light, dark and on a phone', async () => {
    const light = await adminPage()
    await light.page.goto('/admin')
    await expect.poll(() => light.page.getByTestId('stat-asks').textContent()).toContain('1')
    await light.page.getByTestId('stat-upstreams').getByText('Healthy').waitFor()
    await light.page.getByTestId('asks-chart').locator('rect[fill]').first().waitFor()
    await light.page.getByTestId('top-members').getByText(NEW_MEMBER.username, { exact: true }).waitFor()
    await screenshot(light.page, 'admin-overview-light-en')
    await light.page.goto('/admin/asks')
    await light.page.getByText('Hello').or(light.page.getByText(NEW_MEMBER.username)).first().waitFor()
    await screenshot(light.page, 'admin-asks-light-en')
    expect(pageErrors(light.errors)).toEqual([])
    await light.context.close()

    const dark = await adminPage({ colorScheme: 'dark', locale: 'zh-CN' })
    await dark.page.goto('/admin')
    await dark.page.getByText('各模型提问数').waitFor()
    await dark.page.getByTestId('asks-chart').locator('rect[fill]').first().waitFor()
    await screenshot(dark.page, 'admin-overview-dark-zh-CN')
    await dark.page.goto('/admin/users')
    await dark.page.getByTestId(`limits-${NEW_MEMBER.username}`).click()
    await dark.page.getByTestId('limits-modelAsks').waitFor()
    await screenshot(dark.page, 'admin-limits-dark-zh-CN')
    expect(pageErrors(dark.errors)).toEqual([])
    await dark.context.close()

    const phone = await adminPage({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })
    await phone.page.goto('/admin')
    await phone.page.getByTestId('asks-chart').locator('rect[fill]').first().waitFor()
    await screenshot(phone.page, 'admin-overview-phone-en')
    await phone.page.goto('/admin/users')
    await phone.page.getByTestId('users-cards').getByText(NEW_MEMBER.nickname).waitFor()
    await screenshot(phone.page, 'admin-members-phone-en')
    await phone.page.getByTestId('users-cards').locator('button[aria-label="More actions"]').last().click()
    await phone.page.locator('.n-dropdown-option', { hasText: 'Limits' }).click()
    await phone.page.getByTestId('limits-modelAsks').waitFor()
    await screenshot(phone.page, 'admin-limits-phone-en')
    await phone.page.goto('/admin/asks')
    await phone.page.getByText(NEW_MEMBER.username, { exact: true }).first().waitFor()
    await screenshot(phone.page, 'admin-asks-phone-en')
    expect(pageErrors(phone.errors)).toEqual([])
    await phone.context.close()
  })

  it('the server log shows recent lines, then live ones as requests arrive; in light, dark and on a phone', async () => {
    const light = await adminPage()
    await light.page.goto('/admin/logs')
    const lines = light.page.getByTestId('log-line')
    await lines.first().waitFor()
    await light.page.getByTestId('logs-status').getByText('Live').waitFor()
    const before = await lines.count()
    const res = await fetch(`${server.url}/api/health?from=e2e-live-log`)
    expect(res.status).toBe(200)
    await light.page.getByTestId('logs-lines').getByText('e2e-live-log').first().waitFor()
    expect(await lines.count()).toBeGreaterThan(before)
    expect(await light.page.getByTestId('logs-lines').textContent()).not.toContain(ADMIN.password)
    await screenshot(light.page, 'admin-logs-light-en')
    expect(pageErrors(light.errors)).toEqual([])
    await light.context.close()

    const dark = await adminPage({ colorScheme: 'dark', locale: 'zh-CN' })
    await dark.page.goto('/admin/logs')
    await dark.page.getByTestId('log-line').first().waitFor()
    await screenshot(dark.page, 'admin-logs-dark-zh-CN')
    expect(pageErrors(dark.errors)).toEqual([])
    await dark.context.close()

    const phone = await adminPage({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })
    await phone.page.goto('/admin/logs')
    await phone.page.getByTestId('log-line').first().waitFor()
    await screenshot(phone.page, 'admin-logs-phone-en')
    expect(pageErrors(phone.errors)).toEqual([])
    await phone.context.close()
  })

  it('a member gets the forbidden page, not the dashboard', async () => {
    const cookie = await apiLogin(server.url, ADMIN.username, ADMIN.password)
    const res = await fetch(`${server.url}/api/admin/users`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Cookie': cookie },
      body: JSON.stringify({ username: 'lena', password: 'e2e-Lena-Pass-51c0' }),
    })
    expect(res.status).toBe(201)
    const { page, context } = await newPage(browser, server.url)
    await page.goto('/login')
    await loginThroughForm(page, 'lena', 'e2e-Lena-Pass-51c0')
    await page.getByTestId('composer-input').waitFor()
    await page.goto('/admin/users')
    await page.waitForURL(/\/403/)
    expect(await page.getByTestId('admin-view').count()).toBe(0)
    await context.close()
  })
})
