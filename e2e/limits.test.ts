import type { Browser } from 'playwright-core'
import type { RunningServer } from './support/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, loginThroughForm, newPage, screenshot, SKIP_BROWSER_TESTS } from './support/browser'
import { ADMIN, apiLogin, createUser, startServerWithConfig } from './support/server'

const MEMBER = { username: 'mia', password: 'e2e-Member-Pass-4b8e21' }
const UPSTREAMS = [{ id: 'demo', type: 'demo', speed: 4000, first_token_ms: 50, models: [{ key: 'demo', name: 'Demo (offline)', slug: 'demo' }] }]

describe.skipIf(SKIP_BROWSER_TESTS)('limits in a real browser', () => {
  let server: RunningServer
  let browser: Browser
  let adminCookie: string
  let memberId: number

  const setLimits = async (limits: object): Promise<void> => {
    const res = await fetch(`${server.url}/api/admin/users/${memberId}/limits`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json', 'Cookie': adminCookie },
      body: JSON.stringify(limits),
    })
    expect(res.status, await res.clone().text()).toBe(200)
  }

  beforeAll(async () => {
    server = await startServerWithConfig({ upstreams: UPSTREAMS })
    await createUser(server.url, MEMBER)
    adminCookie = await apiLogin(server.url, ADMIN.username, ADMIN.password)
    const list = await (await fetch(`${server.url}/api/admin/users?q=${MEMBER.username}`, { headers: { Cookie: adminCookie } })).json()
    memberId = list.items.find((u: { username: string }) => u.username === MEMBER.username).id
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('the admin lowers a member\'s count to 0 through the API; the member\'s next ask shows the translated reason', async () => {
    await setLimits({ modelAsks: { demo: 5 } })
    const { page, errors, context } = await newPage(browser, server.url)
    await page.goto('/login')
    await loginThroughForm(page, MEMBER.username, MEMBER.password)
    await page.getByTestId('composer-input').waitFor()

    // Asks left: this one goes through.
    await page.getByTestId('composer-input').fill('First question')
    await page.getByTestId('composer-input').press('Enter')
    await expect.poll(() => page.getByTestId('message-assistant').last().getAttribute('data-status'), { timeout: 20_000 }).toBe('done')

    // The admin takes the rest away while the member is on the page (the page still shows 4 left).
    await setLimits({ modelAsks: { demo: 0 } })
    await page.getByTestId('composer-input').fill('Second question')
    await page.getByTestId('composer-input').press('Enter')
    const error = page.getByTestId('composer-error')
    await error.waitFor()
    expect((await error.textContent())?.trim()).toBe('You have used all your questions for this model. Pick another model, or ask your administrator for more.')
    // The question is given back, not lost; no second answer appeared.
    expect(await page.getByTestId('composer-input').inputValue()).toBe('Second question')
    expect(await page.getByTestId('message-assistant').count()).toBe(1)
    await screenshot(page, 'limits-model-asks-exhausted-en')

    // The composer now explains why the model can't be used, also after a reload.
    await expect.poll(() => page.locator('.composer-wrap .hint').textContent(), { timeout: 10_000 }).toContain('No questions left for this model')
    await page.reload()
    await expect.poll(() => page.locator('.composer-wrap .hint').textContent(), { timeout: 10_000 }).toContain('No questions left for this model')

    // The profile's usage tab shows the same: nothing left for the demo model, and why.
    await page.getByTestId('user-menu').click()
    await page.getByText('Profile', { exact: true }).click()
    await page.getByTestId('profile-dialog').waitFor()
    await page.getByTestId('profile-dialog').getByText('Usage', { exact: true }).click()
    const usage = page.getByTestId('usage-model-demo')
    await expect.poll(() => usage.textContent()).toContain('0 left')
    expect(await usage.textContent()).toContain('No questions left for this model')
    await screenshot(page, 'profile-usage-en')
    expect(errors).toEqual([])
    await context.close()
  }, 120_000)
})
