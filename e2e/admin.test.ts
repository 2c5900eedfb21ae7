import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import type { TestPage } from './support/browser'
import type { RunningServer } from './support/server'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, loginThroughForm, newPage, openAdminPage, pageErrors, screenshot, SKIP_BROWSER_TESTS } from './support/browser'
import { ADMIN, apiAsAdmin, apiLogin, createUser, startServerWithConfig } from './support/server'

const UPSTREAMS = [{
  id: 'demo',
  type: 'demo',
  speed: 4000,
  first_token_ms: 50,
  models: [{ key: 'demo', name: 'Demo', slug: 'demo' }, { key: 'demo-pro', name: 'Demo Pro', slug: 'demo-pro' }],
}]
const NEW_MEMBER = { username: 'noah', nickname: 'Noah Park' }
/** Two members for the conversations section: Ava's question is read, given to Liam, then deleted. */
const AVA = { username: 'ava', nickname: 'Ava Lin', password: 'e2e-Ava-Pass-3f81c2' }
const LIAM = { username: 'liam', password: 'e2e-Liam-Pass-90d4e7' }
/** Two members for the ask log's member filter. */
const ZOE = { username: 'zoe', nickname: 'Zoe Sato', password: 'e2e-Zoe-Pass-6a20d9' }
const OMAR = { username: 'omar', password: 'e2e-Omar-Pass-c4172b' }
const AVA_QUESTION = 'How do I compute a moving average of my monthly sales?'
const LIAM_QUESTION = 'Plan a rainy weekend in Kyoto'

interface ConversationRow { id: string, title: string, owner: { id: number, username: string, nickname: string } }

/** Asks through the real server as `member` (POST /api/chat, the answer streamed to the end); returns the conversation id. */
async function askAs(baseUrl: string, member: { username: string, password: string }, content: string): Promise<string> {
  const cookie = await apiLogin(baseUrl, member.username, member.password)
  const res = await fetch(`${baseUrl}/api/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Cookie': cookie },
    body: JSON.stringify({ model: 'demo', content }),
  })
  const text = await res.text()
  if (res.status !== 200 || !/^event: done$/m.test(text))
    throw new Error(`the ask of ${member.username} did not finish: ${res.status} ${text.slice(-500)}`)
  const accepted = /^event: accepted\ndata: (.+)$/m.exec(text)
  return (JSON.parse(accepted![1]!) as { conversationId: string }).conversationId
}

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

  const adminPage = (opts: BrowserContextOptions = {}): Promise<TestPage> => openAdminPage(browser, server.url, opts)
  const apiAs = (method: string, pathname: string, body?: unknown): Promise<Response> => apiAsAdmin(server.url, method, pathname, body)

  /** Picks an option of the naive-ui select inside `scope`. */
  async function choose(page: Page, scope: string, option: string): Promise<void> {
    await page.locator(`${scope} .n-base-selection`).first().click()
    // Visible only: a select that was opened before keeps its (hidden) menu in the page.
    await page.locator('.n-base-select-option', { hasText: option }).filter({ visible: true }).first().click()
  }

  beforeAll(async () => {
    // info: the server log page shows each request's lines.
    server = await startServerWithConfig({ upstreams: UPSTREAMS, limits: { timezone: 'Europe/Berlin' } }, { CWS_LOG__LEVEL: 'info' })
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
    // The database's size on disk and how long the ask log is kept (issue #15 §4, "Retention").
    await expect.poll(() => light.page.getByTestId('stat-db').textContent()).toMatch(/Database\s*[\d.]+\s*(kB|MB)\s*Ask log kept 365 days/)
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
    await dark.page.getByTestId('stat-db').getByText('提问记录保留 365 天').waitFor()
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

  it('conversations: every member\'s, filtered by member and title, read, given to another member, deleted; light, dark zh-CN and phone', async () => {
    await createUser(server.url, AVA)
    await createUser(server.url, LIAM)
    const avaId = await askAs(server.url, AVA, AVA_QUESTION)
    const liamId = await askAs(server.url, LIAM, LIAM_QUESTION)
    const all = await api<{ items: ConversationRow[], total: number }>('/api/admin/conversations')
    const ava = all.items.find(c => c.id === avaId)!
    const liam = all.items.find(c => c.id === liamId)!
    expect(ava.owner.username).toBe(AVA.username)
    expect(liam.owner.username).toBe(LIAM.username)
    // The title is the question's first words (or one the upstream gave).
    expect(ava.title).not.toBe('')

    const { page, errors, context } = await adminPage()
    await page.goto('/admin')
    await page.getByTestId('admin-tab-admin-conversations').click()
    await page.waitForURL(/\/admin\/conversations/)
    const table = page.getByTestId('conversations-table')
    const row = (id: string) => table.locator('tr', { has: page.getByTestId(`open-${id}`) })
    await row(avaId).getByText(AVA.nickname).waitFor()
    await row(liamId).getByText(LIAM.username).waitFor()

    // By member: only Ava's.
    await choose(page, '[data-testid="conversation-member"]', `${AVA.username} (${AVA.nickname})`)
    await page.waitForURL(/user=/)
    await page.getByTestId(`open-${liamId}`).waitFor({ state: 'detached' })
    await page.getByTestId(`open-${avaId}`).waitFor()
    await page.getByText('Clear filters').click()
    await page.getByTestId(`open-${liamId}`).waitFor()
    // By title: only Liam's.
    await page.getByTestId('conversation-search').locator('input').fill('kyoto')
    await page.getByTestId(`open-${avaId}`).waitFor({ state: 'detached' })
    await page.getByTestId(`open-${liamId}`).waitFor()
    expect(await page.getByTestId('conversations-count').textContent()).toContain('1 conversation')
    await page.getByText('Clear filters').click()
    await page.getByTestId(`open-${avaId}`).waitFor()
    await screenshot(page, 'admin-conversations-light-en')

    // Read it: the question as asked, the answer rendered, each under its role.
    await page.getByTestId(`view-${avaId}`).click()
    const drawer = page.getByTestId('conversation-drawer')
    await drawer.getByTestId('view-message-user').getByText(AVA_QUESTION).waitFor()
    const answer = drawer.getByTestId('view-message-assistant')
    await answer.locator('.md-body h2').first().waitFor()
    expect(await answer.textContent()).toContain('You asked')
    expect(await answer.locator('.katex').count()).toBeGreaterThan(0)
    expect(await drawer.getByTestId('view-message-user').textContent()).toContain(AVA.nickname)
    expect(await drawer.getByTestId('conversation-meta').textContent()).toContain('demo')
    await screenshot(page, 'admin-conversation-view-light-en')
    // The Markdown export: the question under the owner's name, the answer as written.
    const [download] = await Promise.all([page.waitForEvent('download'), drawer.getByTestId('conversation-export').click()])
    const md = readFileSync((await download.path())!, 'utf8')
    expect(md.split('\n')[0]).toBe(`# ${ava.title}`)
    expect(md).toContain(`## ${AVA.nickname}\n\n${AVA_QUESTION}`)
    expect(md).toContain('## Assistant\n\n> You asked:')
    await page.keyboard.press('Escape')
    await drawer.waitFor({ state: 'hidden' })

    // Give it to Liam.
    await page.getByTestId(`more-${avaId}`).click()
    await page.locator('.n-dropdown-option', { hasText: 'Give to another member' }).click()
    await page.getByTestId('reassign-dialog').waitFor()
    await choose(page, '[data-testid="reassign-member"]', LIAM.username)
    await screenshot(page, 'admin-conversation-reassign-light-en')
    await page.getByTestId('reassign-submit').click()
    await page.getByText(`now belongs to ${LIAM.username}`).waitFor()
    await row(avaId).getByText(LIAM.username).waitFor()
    const moved = await api<ConversationRow>(`/api/admin/conversations/${avaId}`)
    expect(moved.owner.username).toBe(LIAM.username)
    const liamCookie = await apiLogin(server.url, LIAM.username, LIAM.password)
    const liamOwn = await (await fetch(`${server.url}/api/conversations`, { headers: { Cookie: liamCookie } })).json() as { items: Array<{ id: string }> }
    expect(liamOwn.items.map(c => c.id)).toContain(avaId)

    // Delete it, after a confirmation that names it and its (new) owner; the others go through the API first.
    for (const c of (await api<{ items: ConversationRow[] }>('/api/admin/conversations?limit=100')).items.filter(c => c.id !== avaId))
      expect((await apiAs('DELETE', `/api/admin/conversations/${c.id}`)).status).toBe(204)
    await page.reload()
    await page.getByTestId(`more-${avaId}`).click()
    await page.locator('.n-dropdown-option', { hasText: 'Delete' }).click()
    const confirm = page.locator('.n-dialog')
    await confirm.getByText(`“${ava.title}” of ${LIAM.username} is deleted`).waitFor()
    await screenshot(page, 'admin-conversation-delete-light-en')
    await page.getByTestId('confirm-delete').click()
    await page.getByText(`“${ava.title}” of ${LIAM.username} was deleted`).waitFor()
    await page.getByTestId('conversations-empty').getByText('No conversations yet.').waitFor()
    expect((await apiAs('GET', `/api/admin/conversations/${avaId}`)).status).toBe(404)
    expect(pageErrors(errors)).toEqual([])
    await context.close()

    // Dark, in Chinese, and on a phone: with a conversation to show again.
    const again = await askAs(server.url, AVA, AVA_QUESTION)
    const dark = await adminPage({ colorScheme: 'dark', locale: 'zh-CN' })
    await dark.page.goto('/admin/conversations')
    await dark.page.getByTestId(`open-${again}`).waitFor()
    await dark.page.getByText('共 1 个对话').waitFor()
    await screenshot(dark.page, 'admin-conversations-dark-zh-CN')
    await dark.page.getByTestId(`view-${again}`).click()
    await dark.page.getByTestId('view-message-assistant').locator('.md-body h2').first().waitFor()
    await dark.page.getByTestId('conversation-drawer').getByText('提问').first().waitFor()
    await screenshot(dark.page, 'admin-conversation-view-dark-zh-CN')
    expect(pageErrors(dark.errors)).toEqual([])
    await dark.context.close()

    const phone = await adminPage({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })
    await phone.page.goto('/admin/conversations')
    const cards = phone.page.getByTestId('conversations-cards')
    await cards.getByText(AVA.nickname).waitFor()
    // All six tabs fit the phone's width (and a 360 px one's): none is scrolled out of view.
    const nav = phone.page.locator('nav.tabs')
    expect(await nav.evaluate(el => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0)
    await phone.page.setViewportSize({ width: 360, height: 740 })
    expect(await nav.evaluate(el => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0)
    await phone.page.setViewportSize({ width: 390, height: 844 })
    await screenshot(phone.page, 'admin-conversations-phone-en')
    await cards.locator('button[aria-label="More actions"]').first().click()
    await phone.page.locator('.n-dropdown-option', { hasText: 'View' }).click()
    await phone.page.getByTestId('view-message-assistant').locator('.md-body h2').first().waitFor()
    const box = await phone.page.locator('.n-drawer').boundingBox()
    expect(box?.width).toBe(390)
    await screenshot(phone.page, 'admin-conversation-view-phone-en')
    expect(pageErrors(phone.errors)).toEqual([])
    await phone.context.close()
  })

  it('the ask log filters by member: typed and chosen, cleared, or a name clicked in a row', async () => {
    await createUser(server.url, ZOE)
    await createUser(server.url, OMAR)
    await askAs(server.url, ZOE, 'First question of Zoe')
    await askAs(server.url, ZOE, 'Second question of Zoe')
    await askAs(server.url, OMAR, 'A question of Omar')

    const { page, errors, context } = await adminPage()
    await page.goto('/admin/asks')
    const asks = page.getByTestId('admin-asks')
    /** The member column of the rows shown. */
    const members = (): Promise<string[]> => asks.locator('tbody tr td:nth-child(2)').allTextContents()
    await asks.locator('tbody a.link', { hasText: /^omar$/ }).first().waitFor()
    expect(await members()).toContain(ZOE.username)

    // Part of Zoe's nickname, then her option: only her two asks.
    const select = page.getByTestId('asks-member')
    await select.locator('.n-base-selection').click()
    await page.keyboard.type('Sato')
    await page.locator('.n-base-select-option', { hasText: `${ZOE.username} (${ZOE.nickname})` }).filter({ visible: true }).click()
    await page.waitForURL(/user=/)
    await expect.poll(members).toEqual([ZOE.username, ZOE.username])

    // Cleared: everyone's again.
    await select.hover()
    await select.locator('.n-base-clear__clear').click()
    await page.waitForURL(url => !url.searchParams.has('user'))
    await expect.poll(members).toEqual(expect.arrayContaining([ZOE.username, OMAR.username]))

    // Omar's name in a row: the filter holds him, the log shows his ask only.
    await asks.locator('tbody a.link', { hasText: /^omar$/ }).first().click()
    await page.waitForURL(/user=/)
    await expect.poll(members).toEqual([OMAR.username])
    expect(await select.locator('.n-base-selection').textContent()).toContain(OMAR.username)
    expect(pageErrors(errors)).toEqual([])
    await context.close()
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
