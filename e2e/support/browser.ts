import type { Browser, BrowserContext, BrowserContextOptions, ConsoleMessage, Page } from 'playwright-core'
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { chromium } from 'playwright-core'
import { ADMIN, ROOT } from './server'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const SKIP_BROWSER_TESTS = process.env.CWS_SKIP_BROWSER_TESTS === '1'
export const ARTIFACTS = path.join(ROOT, 'e2e/artifacts')

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * Launches Debian's chromium. Playwright gives every launch a fresh temporary `--user-data-dir`
 * (and every context is isolated), so nothing leaks between runs. A missing chromium is a failure,
 * not a skip, unless CWS_SKIP_BROWSER_TESTS=1.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium was not found at ${CHROMIUM_PATH}. Install it (Debian/Ubuntu: \`sudo apt-get install chromium\`) `
      + 'or point CHROMIUM_PATH at a Chromium/Chrome binary. To skip the browser tests on purpose, set CWS_SKIP_BROWSER_TESTS=1.',
    )
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS })
}

export interface TestPage {
  context: BrowserContext
  page: Page
  /** Console errors and uncaught exceptions seen so far (CSP violations show up here). */
  errors: string[]
}

/** Expected noise: the browser logs every non-2xx fetch, e.g. GET /api/me → 401 while signed out. */
function isExpectedResourceError(msg: ConsoleMessage): boolean {
  const text = msg.text()
  if (!text.startsWith('Failed to load resource'))
    return false
  const url = msg.location().url
  return /\/api\//.test(url) && /status of (?:401|403|429)/.test(text)
}

export async function newPage(browser: Browser, baseURL: string, opts: BrowserContextOptions = {}): Promise<TestPage> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 }, locale: 'en-US', ...opts })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !isExpectedResourceError(msg))
      errors.push(`console: ${msg.text()}`)
  })
  page.on('pageerror', err => errors.push(`pageerror: ${err.message}`))
  return { context, page, errors }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const file = path.join(ARTIFACTS, `${name}.png`)
  // Let transitions settle so the picture shows the finished state.
  await page.waitForTimeout(350)
  await page.screenshot({ path: file, fullPage: false })
  return file
}

/** Signs in through the login form. */
export async function loginThroughForm(page: Page, username: string, password: string): Promise<void> {
  await page.locator('#login-username').fill(username)
  await page.locator('#login-password').fill(password)
  await page.locator('#login-password').press('Enter')
}

/** A new page signed in as `who` through the login form, on the chat page. */
export async function signedInPage(browser: Browser, baseURL: string, who: { username: string, password: string }, opts: BrowserContextOptions = {}): Promise<TestPage> {
  const p = await newPage(browser, baseURL, opts)
  await p.page.goto('/login')
  await loginThroughForm(p.page, who.username, who.password)
  await p.page.getByTestId('composer-input').waitFor()
  return p
}

/** Types a question in the composer and sends it with Enter. */
export async function askInComposer(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text)
  await page.getByTestId('composer-input').press('Enter')
}

/** A new page (light unless `opts` says otherwise) signed in as the admin through the login form. */
export async function openAdminPage(browser: Browser, baseURL: string, opts: BrowserContextOptions = {}): Promise<TestPage> {
  const p = await newPage(browser, baseURL, { colorScheme: 'light', ...opts })
  await p.page.goto('/login')
  await loginThroughForm(p.page, ADMIN.username, ADMIN.password)
  await p.page.waitForURL(url => !url.pathname.startsWith('/login'))
  return p
}

/**
 * Console errors that are the page's fault. Chromium logs `net::ERR_NETWORK_CHANGED` when the host's
 * network interfaces change under it (containers started on a shared machine); not ours.
 */
export const pageErrors = (errors: string[]): string[] => errors.filter(e => !e.includes('net::ERR_NETWORK_CHANGED'))
