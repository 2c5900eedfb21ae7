import type { Browser, Page } from 'playwright-core'
import type { RunningServer } from './support/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, loginThroughForm, newPage, screenshot, SKIP_BROWSER_TESTS } from './support/browser'
import { ADMIN, createUser, startServer } from './support/server'

const MEMBER = { username: 'max', password: 'e2e-Member-Pass-9c3a57' }
const VICTIM = { username: 'tom', password: 'e2e-Victim-Pass-1f6d03' }

async function errorText(page: Page): Promise<string> {
  const el = page.getByTestId('login-error')
  await el.waitFor()
  return (await el.textContent())?.trim() ?? ''
}

describe.skipIf(SKIP_BROWSER_TESTS)('login flow in a real browser', () => {
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    server = await startServer()
    await createUser(server.url, MEMBER)
    await createUser(server.url, VICTIM)
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('guard → login; wrong password → translated error; right one → back where they were; reload keeps the session; logout → login', async () => {
    const { page, errors, context } = await newPage(browser, server.url)

    // The guard sends a signed-out visitor to login, remembering the page.
    await page.goto('/admin?tab=users')
    await page.waitForURL(/\/login\?redirect=/)
    expect(new URL(page.url()).searchParams.get('redirect')).toBe('/admin?tab=users')

    // Wrong password: an inline, translated error; the password field is cleared.
    await loginThroughForm(page, ADMIN.username, 'not-the-password')
    expect(await errorText(page)).toBe('Wrong username or password.')
    expect(await page.locator('#login-password').inputValue()).toBe('')
    await screenshot(page, 'login-error-light-en')

    // The same in Chinese.
    await page.getByTestId('language-switch').click()
    await page.getByText('简体中文', { exact: true }).click()
    await expect.poll(() => page.getByTestId('login-error').textContent()).toBe('用户名或密码错误。')
    await page.getByTestId('language-switch').click()
    await page.getByText('English', { exact: true }).click()

    // Right password: lands on the page it came from.
    await loginThroughForm(page, ADMIN.username, ADMIN.password)
    await page.waitForURL(url => url.pathname === '/admin')
    expect(new URL(page.url()).search).toBe('?tab=users')
    await page.getByTestId('admin-view').waitFor()

    // The session survives a reload (HttpOnly cookie; nothing in localStorage).
    await page.reload()
    await page.getByTestId('admin-view').waitFor()
    expect(page.url()).toContain('/admin')
    const stored = await page.evaluate(() => JSON.stringify(localStorage))
    expect(stored).not.toContain(ADMIN.password)
    expect(stored).not.toMatch(/eyJ/) // no JWT
    const cookies = await context.cookies()
    expect(cookies.find(c => c.name === 'cws_session')?.httpOnly).toBe(true)

    // Logout → login; the guard keeps them out afterwards.
    await page.getByTestId('user-menu').click()
    await page.getByText('Sign out', { exact: true }).click()
    await page.waitForURL(/\/login$/)
    await page.goto('/')
    await page.waitForURL(/\/login/)
    await page.locator('#login-username').waitFor()
    expect(errors).toEqual([])
    await context.close()
  })

  it('a member sees the 403 page on /admin and no admin link', async () => {
    const { page, errors, context } = await newPage(browser, server.url)
    await page.goto('/admin')
    await page.waitForURL(/\/login/)
    await loginThroughForm(page, MEMBER.username, MEMBER.password)
    await page.getByTestId('forbidden-view').waitFor()
    expect(await page.locator('h1').textContent()).toBe('Admins only')
    expect(await page.getByTestId('admin-link').count()).toBe(0)
    await screenshot(page, 'forbidden-light-en')
    expect(errors).toEqual([])
    await context.close()
  })

  it('after repeated failures: throttling message with a live countdown and a disabled button', async () => {
    const { page, context } = await newPage(browser, server.url)
    await page.goto('/login')
    let text = ''
    for (let i = 0; i < 8; i++) {
      await loginThroughForm(page, VICTIM.username, `wrong-${i}-password`)
      await expect.poll(() => page.getByTestId('login-error').textContent().catch(() => '')).not.toBe('')
      // Wait for this attempt's answer (the button leaves its loading state).
      await expect.poll(() => page.getByTestId('login-submit').getAttribute('class')).not.toContain('n-button--loading')
      text = (await page.getByTestId('login-error').textContent()) ?? ''
      if (text.startsWith('Too many attempts'))
        break
    }
    // A lock of the window's length reads in minutes and seconds.
    const left = (t: string) => {
      const m = /Try again in (?:(\d+)\smin\s)?(\d+)\ss\./.exec(t)
      return m ? Number(m[1] ?? 0) * 60 + Number(m[2]) : Number.NaN
    }
    expect(text).toMatch(/^Too many attempts\. Try again in \d+\smin\s\d+\ss\./)
    expect(text).toContain('a device you used before still works')
    const first = left(text)
    expect(first).toBeGreaterThan(60)
    const button = page.getByTestId('login-submit')
    expect(await button.isDisabled()).toBe(true)
    expect(await button.textContent()).toMatch(/Wait \d+\smin\s\d+\ss/)
    await screenshot(page, 'login-throttled-light-en')

    // The countdown is live.
    await page.waitForTimeout(2100)
    const later = left((await page.getByTestId('login-error').textContent()) ?? '')
    expect(later).toBeLessThan(first)

    // Even the right password is refused while blocked (the server says so too).
    const res = await page.evaluate(async creds => (await fetch('/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(creds) })).status, VICTIM)
    expect(res).toBe(429)
    await context.close()

    // The same lock on a phone, dark, in Chinese: this address is still held back for tom.
    const phone = await newPage(browser, server.url, { viewport: { width: 390, height: 844 }, colorScheme: 'dark', locale: 'zh-CN' })
    await phone.page.goto('/login')
    await loginThroughForm(phone.page, VICTIM.username, VICTIM.password)
    const zh = await errorText(phone.page)
    expect(zh).toMatch(/^尝试次数过多，请在 \d+ 分 \d+ 秒后重试。/)
    expect(zh).toContain('以前登录过的设备')
    expect(await phone.page.getByTestId('login-submit').isDisabled()).toBe(true)
    await screenshot(phone.page, 'login-throttled-dark-zh-CN-phone')
    expect(phone.errors).toEqual([])
    await phone.context.close()
  })
})
