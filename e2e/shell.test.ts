import type { Browser } from 'playwright-core'
import type { RunningServer } from './support/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, loginThroughForm, newPage, screenshot, SKIP_BROWSER_TESTS } from './support/browser'
import { ADMIN, createUser, startServer } from './support/server'

const MEMBER = { username: 'mia', password: 'e2e-Member-Pass-4b8e21', nickname: 'Mia Chen' }

describe.skipIf(SKIP_BROWSER_TESTS)('sPA shell in a real browser', () => {
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    server = await startServer()
    await createUser(server.url, MEMBER)
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('loads under the server\'s CSP without console errors, in light theme and English', async () => {
    const { page, errors, context } = await newPage(browser, server.url, { colorScheme: 'light' })
    const res = await page.goto('/')
    expect(res?.headers()['content-security-policy']).toContain('script-src \'self\'')
    await page.waitForURL(/\/login$/)
    await expect.poll(() => page.locator('h1').textContent()).toBe('Welcome back')
    expect(await page.title()).toBe('Sign in · ChatGPT Web Share')
    expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(false)
    await screenshot(page, 'login-light-en')
    expect(errors).toEqual([])
    await context.close()
  })

  it('switches to zh-CN from the login page and remembers it after a reload', async () => {
    const { page, errors, context } = await newPage(browser, server.url)
    await page.goto('/login')
    await page.getByTestId('language-switch').click()
    await page.getByText('简体中文', { exact: true }).click()
    await expect.poll(() => page.locator('h1').textContent()).toBe('欢迎回来')
    expect(await page.getByTestId('login-submit').textContent()).toContain('登录')
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN')
    await page.reload()
    await expect.poll(() => page.locator('h1').textContent()).toBe('欢迎回来')
    await screenshot(page, 'login-light-zh-CN')
    expect(errors).toEqual([])
    await context.close()
  })

  it('follows a Chinese browser by default', async () => {
    const { page, context } = await newPage(browser, server.url, { locale: 'zh-CN' })
    await page.goto('/login')
    await expect.poll(() => page.locator('h1').textContent()).toBe('欢迎回来')
    await context.close()
  })

  it('applies the dark theme, from the switch and from the system setting', async () => {
    const { page, errors, context } = await newPage(browser, server.url, { colorScheme: 'light' })
    await page.goto('/login')
    await page.getByTestId('theme-switch').click()
    await page.getByText('Dark', { exact: true }).click()
    await expect.poll(() => page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(true)
    // The body colour fades over 0.3 s; wait for it to land on a dark colour.
    await expect.poll(async () => luminance(await page.evaluate(() => getComputedStyle(document.body).backgroundColor))).toBeLessThan(0.1)
    await screenshot(page, 'login-dark-en')
    expect(errors).toEqual([])
    await context.close()

    // "System" (the default) follows the OS.
    const sys = await newPage(browser, server.url, { colorScheme: 'dark' })
    await sys.page.goto('/login')
    await expect.poll(() => sys.page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(true)
    await sys.context.close()
  })

  it('shows the main layout with sidebar and user menu, in both themes', async () => {
    const { page, errors, context } = await newPage(browser, server.url, { colorScheme: 'light' })
    await page.goto('/')
    await loginThroughForm(page, ADMIN.username, ADMIN.password)
    await page.waitForURL(url => url.pathname === '/')
    await page.getByTestId('chat-empty').waitFor()
    expect(await page.getByTestId('sidebar').isVisible()).toBe(true)
    expect(await page.getByTestId('new-chat').isVisible()).toBe(true)
    expect(await page.getByTestId('phone-header').count()).toBe(0)
    await screenshot(page, 'main-light-en')

    await page.getByTestId('user-menu').click()
    await page.getByText('Admin dashboard', { exact: true }).last().waitFor()
    await screenshot(page, 'main-user-menu-light-en')
    await page.keyboard.press('Escape')

    // Dark + Chinese through the user menu.
    await page.getByTestId('user-menu').click()
    await page.getByText('Theme', { exact: true }).hover()
    await page.getByText('Dark', { exact: true }).click()
    await expect.poll(() => page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(true)
    await page.getByTestId('user-menu').click()
    await page.getByText('Language', { exact: true }).hover()
    await page.getByText('简体中文', { exact: true }).click()
    await expect.poll(() => page.getByTestId('chat-empty').locator('h1').textContent()).toBe('开始一段对话')
    await page.mouse.move(900, 400)
    await screenshot(page, 'main-dark-zh-CN')

    // Collapsed sidebar keeps the essentials.
    await page.getByTestId('collapse-sidebar').click()
    await screenshot(page, 'main-dark-collapsed')
    expect(await page.getByTestId('new-chat').isVisible()).toBe(true)
    await page.getByTestId('collapse-sidebar').click()

    // Profile dialog.
    await page.getByTestId('user-menu').click()
    await page.getByText('个人资料', { exact: true }).click()
    await page.getByTestId('profile-dialog').waitFor()
    await screenshot(page, 'profile-dark-zh-CN')
    expect(errors).toEqual([])
    await context.close()
  })

  it('on a 390x844 phone: header with hamburger, sidebar in a drawer', async () => {
    const { page, errors, context } = await newPage(browser, server.url, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, colorScheme: 'light' })
    await page.goto('/login')
    await screenshot(page, 'phone-login-light-en')
    // A member: no saved preferences, and no admin link.
    await loginThroughForm(page, MEMBER.username, MEMBER.password)
    await page.getByTestId('chat-empty').waitFor()
    expect(await page.getByTestId('phone-header').isVisible()).toBe(true)
    expect(await page.getByTestId('sidebar').count()).toBe(0)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await screenshot(page, 'phone-main-light-en')

    await page.getByTestId('menu-button').click()
    await page.getByTestId('sidebar-drawer').waitFor()
    expect(await page.getByTestId('sidebar-drawer').getByTestId('new-chat').isVisible()).toBe(true)
    await screenshot(page, 'phone-drawer-light-en')
    expect(errors).toEqual([])
    await context.close()
  })

  it('answers unknown pages with the 404 view', async () => {
    const { page, context } = await newPage(browser, server.url)
    await page.goto('/no/such/page')
    await page.getByTestId('not-found-view').waitFor()
    expect(await page.locator('h1').textContent()).toBe('Page not found')
    await context.close()
  })
})

function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? ['255', '255', '255']).map(Number)
  return (0.2126 * r! + 0.7152 * g! + 0.0722 * b!) / 255
}
