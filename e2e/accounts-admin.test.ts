import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import type { FakeUpstream } from '../backend/test/fake-upstream/server'
import type { TestPage } from './support/browser'
import type { RunningServer } from './support/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fakeJwt, startFakeUpstream } from '../backend/test/fake-upstream/server'
import { launchBrowser, openAdminPage, pageErrors, screenshot, SKIP_BROWSER_TESTS } from './support/browser'
import { apiAsAdmin, startServerWithConfig } from './support/server'

const REFUSED = 'refused-access-token-0001'
const KEY_NEW = 'sk-added-in-the-drawer-0003'

/**
 * The admin's side of shared accounts, in a real browser against the real built server and a fake
 * upstream on 127.0.0.1 with two ChatGPT web accounts: `good` (a JWT-shaped token expiring in 5 days,
 * no session token) and `bad` (its token is refused: 401). The admin sees the cards with their state
 * and expiry, tests a connection, sees the alerts banner on every admin page, and adds an account in
 * the drawer whose card then appears. Screenshots land in e2e/artifacts/accounts-*.png.
 */
describe.skipIf(SKIP_BROWSER_TESTS)('accounts in the admin dashboard', () => {
  let fake: FakeUpstream
  let server: RunningServer
  let browser: Browser
  let good: string

  const adminPage = (opts: BrowserContextOptions = {}): Promise<TestPage> => openAdminPage(browser, server.url, opts)

  async function shot(page: Page, name: string): Promise<void> {
    await page.mouse.move(1, 1)
    await screenshot(page, name)
  }

  beforeAll(async () => {
    fake = await startFakeUpstream()
    good = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 5 * 86_400 })
    fake.accepted.add(good)
    fake.accepted.add(KEY_NEW)
    server = await startServerWithConfig({
      // The fake upstream is on 127.0.0.1: the operator allows the dashboard to save such an address.
      network: { allow_private_upstreams: true },
      upstreams: [
        {
          id: 'web',
          type: 'chatgpt-web',
          base_url: fake.chatgptBaseUrl,
          models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }],
          accounts: [
            { id: 'good', access_token: good, caps: { 'gpt-4o': { asks: 80, hours: 3 } } },
            { id: 'bad', access_token: REFUSED },
          ],
        },
        { id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, models: [{ key: 'mini', name: 'Mini', slug: 'gpt-4o-mini' }] },
      ],
    })
    browser = await launchBrowser()
    // The refused account meets its 401 through the real test route.
    const res = await apiAsAdmin(server.url, 'POST', '/api/admin/upstreams/web/accounts/bad/test', {})
    expect(res.status).toBe(200)
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await fake?.close()
  })

  it('shows each account\'s state and expiry, tests a connection, and raises the banner for the refused one', async () => {
    const { page, errors, context } = await adminPage()
    await page.goto('/admin/upstreams')
    const goodCard = page.getByTestId('account-web-good')
    const badCard = page.getByTestId('account-web-bad')
    await goodCard.waitFor()
    // `good` expires in 5 days without a session token: it warns (expiry_warning_days 3, 1 not reached yet: ok).
    await expect.poll(() => goodCard.getByTestId('account-state').textContent()).toMatch(/OK|Expiring/)
    expect(await goodCard.getByTestId('account-expiry').textContent()).toMatch(/expires in 5 days/)
    expect(await goodCard.getByTestId('account-expiry').textContent()).toContain('No session token')
    expect(await goodCard.getByTestId('account-cap-gpt-4o').textContent()).toContain('gpt-4o: 0 of 80 asks per 3 h')
    await expect.poll(() => badCard.getByTestId('account-state').textContent()).toBe('Unauthorized')
    expect(await badCard.getByTestId('account-line').textContent()).toContain('Its credential was refused')
    expect(await badCard.textContent()).not.toContain(REFUSED)

    // Test connection: a spinner, then the result on the card.
    await goodCard.getByTestId('account-test').click()
    const result = goodCard.getByTestId('account-test-result')
    await result.waitFor()
    expect(await result.textContent()).toMatch(/Reachable in \d+/)
    expect(await result.textContent()).toContain('Plan: plus')
    await badCard.getByTestId('account-test').click()
    await expect.poll(() => badCard.getByTestId('account-test-result').textContent()).toMatch(/Test failed/)

    // The banner names the refused account and what to do, on every admin page.
    const banner = page.getByTestId('alerts-banner')
    await banner.waitFor({ timeout: 15_000 })
    const alert = banner.getByTestId('alert-web-bad')
    expect(await alert.textContent()).toContain('web / bad was refused by the upstream.')
    expect(await alert.textContent()).toContain('Paste a new access token')
    await shot(page, 'accounts-cards-light-en')
    await page.goto('/admin/users')
    await banner.waitFor()
    await banner.getByTestId('alerts-open').click()
    await page.waitForURL(/\/admin\/upstreams/)

    // Dismissed: gone, and still gone after a reload (remembered in this browser).
    await alert.locator('button').click()
    await expect.poll(() => banner.isVisible()).toBe(false)
    await page.reload()
    await page.getByTestId('account-web-bad').waitFor()
    await new Promise(r => setTimeout(r, 500))
    expect(await page.getByTestId('alerts-banner').isVisible()).toBe(false)
    expect(pageErrors(errors)).toEqual([])
    await context.close()
  })

  it('adds an account in the drawer; after "Save and apply" its card appears and it answers', async () => {
    const { page, errors, context } = await adminPage()
    await page.goto('/admin/upstreams')
    await page.getByTestId('upstream-api').getByTestId('edit').click()
    const drawer = page.getByTestId('upstream-drawer')
    await drawer.waitFor()
    await drawer.getByTestId('add-account').click()
    await drawer.getByTestId('account-id-0').fill('k2')
    // Without its key the drawer says what to enter.
    await page.getByTestId('upstream-done').click()
    await drawer.getByText('Enter the API key of this account').waitFor()
    await drawer.getByTestId('account-credential-0').fill(KEY_NEW)
    await shot(page, 'accounts-drawer-light-en')
    await page.getByTestId('upstream-done').click()
    await drawer.waitFor({ state: 'hidden' })
    await page.getByTestId('save-upstreams').click()
    const card = page.getByTestId('account-api-k2')
    await card.waitFor({ timeout: 15_000 })
    await expect.poll(() => card.getByTestId('account-state').textContent()).toBe('OK')
    await card.getByTestId('account-test').click()
    await expect.poll(() => card.getByTestId('account-test-result').textContent()).toMatch(/Reachable/)
    // The pool now answers with the new key (the upstream's own key is no longer used).
    expect(fake.requests.some(r => r.headers.authorization === `Bearer ${KEY_NEW}`)).toBe(true)
    const settings = await (await apiAsAdmin(server.url, 'GET', '/api/admin/settings/upstreams')).text()
    expect(settings).not.toContain(KEY_NEW)
    expect(pageErrors(errors)).toEqual([])
    await context.close()
  })

  it('looks right in dark mode, in Chinese and on a phone', async () => {
    // The save above left `web` as it was: `bad` is still refused (its state survived the hot reload).
    for (const [name, opts] of [
      ['dark-zh-CN', { colorScheme: 'dark', locale: 'zh-CN' }],
      ['phone-light-en', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }],
      ['phone-dark-zh-CN', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'dark', locale: 'zh-CN' }],
    ] as const) {
      const { page, context } = await adminPage(opts as BrowserContextOptions)
      await page.goto('/admin/upstreams')
      await page.getByTestId('account-web-bad').waitFor()
      await page.getByTestId('alerts-banner').waitFor({ timeout: 15_000 })
      await shot(page, `accounts-cards-${name}`)
      await page.getByTestId('upstream-web').getByTestId('edit').click()
      await page.getByTestId('accounts-editor').waitFor()
      await page.getByTestId('accounts-editor').scrollIntoViewIfNeeded()
      await shot(page, `accounts-drawer-${name}`)
      await context.close()
    }
  })
})
