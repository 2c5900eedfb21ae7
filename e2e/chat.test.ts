import type { Browser, Page } from 'playwright-core'
import type { RunningServer } from './support/server'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoAnswer } from '../backend/src/modules/providers/demo/demo.answer'
import { ARTIFACTS, askInComposer, launchBrowser, loginThroughForm, newPage, screenshot, SKIP_BROWSER_TESTS } from './support/browser'
import { ADMIN, startServerWithConfig } from './support/server'

// Two demo upstreams: a fast one for most tests and a slow one to catch an answer mid-stream.
const UPSTREAMS = [
  { id: 'demo', type: 'demo', speed: 4000, first_token_ms: 50, models: [{ key: 'demo', name: 'Demo (offline)', slug: 'demo' }] },
  { id: 'slow', type: 'demo', speed: 40, first_token_ms: 300, models: [{ key: 'demo-slow', name: 'Demo slow', slug: 'demo' }] },
]

async function signIn(page: Page): Promise<void> {
  await page.goto('/login')
  await loginThroughForm(page, ADMIN.username, ADMIN.password)
  await page.waitForURL(url => !url.pathname.startsWith('/login'))
  await page.getByTestId('composer-input').waitFor()
}

async function pickModel(page: Page, key: string): Promise<void> {
  await page.getByTestId('model-picker').click()
  await page.getByTestId(`model-option-${key}`).click()
}

const lastAnswer = (page: Page) => page.getByTestId('message-assistant').last()

/** Seeds a conversation of `pairs` finished question/answer pairs of the admin straight into the SQLite file. */
function seedLong(dataDir: string, pairs: number): string {
  const require = createRequire(fileURLToPath(new URL('../backend/package.json', import.meta.url)))
  const Database = require('better-sqlite3') as typeof import('better-sqlite3')
  const db = new Database(path.join(dataDir, 'cws.db'), { timeout: 10_000 })
  const user = db.prepare('SELECT "id" FROM "User" WHERE "username" = ?').get(ADMIN.username) as { id: number }
  const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00') // the Prisma adapter's format
  const id = 'e2e-long-conversation'
  const start = Date.now() - 86_400_000
  db.prepare('INSERT INTO "Conversation" ("id", "userId", "title", "model", "upstreamId", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(id, user.id, 'Long seeded conversation', 'demo', 'demo', iso(start), iso(start + pairs * 2000))
  const insert = db.prepare('INSERT INTO "Message" ("id", "conversationId", "parentId", "role", "content", "status", "model", "finishReason", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
  db.transaction(() => {
    let parent: string | null = null
    for (let i = 0; i < pairs; i++) {
      const question = `Seeded question number ${i + 1} about math and code`
      insert.run(`${id}-q${i}`, id, parent, 'user', question, 'done', 'demo', null, iso(start + i * 2000), iso(start + i * 2000))
      insert.run(`${id}-a${i}`, id, `${id}-q${i}`, 'assistant', demoAnswer(question), 'done', 'demo', 'stop', iso(start + i * 2000 + 1000), iso(start + i * 2000 + 1000))
      parent = `${id}-a${i}`
    }
  })()
  db.close()
  return id
}

describe.skipIf(SKIP_BROWSER_TESTS)('chat in a real browser', () => {
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    server = await startServerWithConfig({ upstreams: UPSTREAMS })
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('streams a Markdown answer with KaTeX math, highlighted code and a table; the sidebar lists it', async () => {
    const { page, errors, context } = await newPage(browser, server.url, { colorScheme: 'light' })
    await signIn(page)
    await screenshot(page, 'chat-empty-light-en')
    await pickModel(page, 'demo')
    await askInComposer(page, 'Explain binary search with math and code')
    await page.waitForURL(/\/c\/[\w-]+$/)
    await expect.poll(() => lastAnswer(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('done')

    const answer = lastAnswer(page)
    expect(await answer.locator('.katex').count()).toBeGreaterThanOrEqual(2)
    expect(await answer.locator('.katex-display').count()).toBeGreaterThanOrEqual(1)
    expect(await answer.locator('.md-code-lang').allTextContents()).toEqual(expect.arrayContaining(['typescript', 'python']))
    expect(await answer.locator('.md-code .hljs-keyword').count()).toBeGreaterThan(2)
    expect(await answer.locator('table th').count()).toBeGreaterThan(1)
    expect(await answer.locator('.md-cursor').count()).toBe(0)
    // the question keeps its text; the conversation got a title and sits in "Today"
    expect(await page.getByTestId('message-user').last().textContent()).toContain('Explain binary search')
    await expect.poll(() => page.getByTestId('conversation-title').first().textContent()).not.toBe('New chat')
    expect(await page.getByTestId('conversation-list').textContent()).toContain('Today')

    // copy buttons work without inline handlers (strict CSP)
    await context.grantPermissions(['clipboard-read', 'clipboard-write'])
    await answer.locator('.md-code-copy').first().click()
    await expect.poll(() => answer.locator('.md-code-copy[data-copied]').count()).toBe(1)

    // raw toggle shows the Markdown source with delimiters
    await answer.getByTestId('toggle-raw').click()
    expect(await answer.getByTestId('raw-text').textContent()).toContain('$$')
    await answer.getByTestId('toggle-raw').click()

    await page.getByTestId('chat-scroller').evaluate(el => el.scrollTo({ top: 0 }))
    await screenshot(page, 'chat-answer-top-light-en')
    await page.getByTestId('chat-scroller').evaluate(el => el.scrollTo({ top: el.scrollHeight }))
    await page.locator('.md-code').first().scrollIntoViewIfNeeded()
    await screenshot(page, 'chat-answer-code-light-en')
    expect(errors).toEqual([])
    await context.close()
  })

  it('shows the stream with a cursor, stops mid-stream (server side too), then regenerates', async () => {
    const { page, errors, context } = await newPage(browser, server.url, { colorScheme: 'light' })
    await signIn(page)
    await pickModel(page, 'demo-slow')
    await askInComposer(page, 'Tell me about sorting')
    await page.waitForURL(/\/c\/[\w-]+$/)
    const answer = lastAnswer(page)
    await expect.poll(() => answer.locator('.md-body').textContent(), { timeout: 15_000 }).toMatch(/\w{3}.*\w{3}/s)
    expect(await answer.getAttribute('data-status')).toBe('streaming')
    expect(await answer.locator('.md-cursor').count()).toBe(1)
    await screenshot(page, 'chat-streaming-light-en')

    await page.getByTestId('stop').click()
    await expect.poll(() => answer.getAttribute('data-status')).toBe('stopped')
    const kept = await answer.locator('.md-body').textContent()
    expect(kept!.length).toBeGreaterThan(5)
    expect(await answer.getByTestId('message-badge').textContent()).toContain('Stopped')
    // the server stored it as stopped, with the partial text
    const id = new URL(page.url()).pathname.split('/').pop()
    const detail = await page.evaluate(async (cid) => {
      const res = await fetch(`/api/conversations/${cid}`)
      return res.json()
    }, id)
    const stored = detail.messages.filter((m: { role: string }) => m.role === 'assistant').pop()
    expect(stored.status).toBe('stopped')
    expect(stored.content.length).toBeGreaterThan(0)
    await screenshot(page, 'chat-stopped-light-en')

    // regenerate with the fast model: a new answer, the old one reachable as 1 / 2
    await pickModel(page, 'demo')
    await lastAnswer(page).getByTestId('regenerate').click()
    await expect.poll(() => lastAnswer(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('done')
    expect(await page.getByTestId('message-assistant').count()).toBe(1)
    expect(await lastAnswer(page).getByTestId('branches').textContent()).toContain('2 / 2')
    await lastAnswer(page).getByTestId('branches').locator('button').first().click()
    await expect.poll(() => lastAnswer(page).getAttribute('data-status')).toBe('stopped')
    expect(errors).toEqual([])
    await context.close()
  })

  it('renames and deletes a conversation from the sidebar', async () => {
    const { page, errors, context } = await newPage(browser, server.url)
    await signIn(page)
    await pickModel(page, 'demo')
    await askInComposer(page, 'A conversation to rename')
    await page.waitForURL(/\/c\/[\w-]+$/)
    await expect.poll(() => lastAnswer(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('done')
    const id = new URL(page.url()).pathname.split('/').pop()!

    const row = page.getByTestId('conversation-item').filter({ has: page.locator(`a[href="/c/${id}"]`) })
    await row.hover()
    await row.getByTestId('conversation-menu').click()
    await page.getByTestId('conversation-rename').click()
    await page.getByTestId('rename-input').fill('Renamed by the test')
    await page.getByTestId('rename-input').press('Enter')
    await expect.poll(() => row.getByTestId('conversation-title').textContent()).toBe('Renamed by the test')
    await expect.poll(() => page.getByTestId('chat-title').textContent()).toContain('Renamed by the test')
    const stored = await page.evaluate(async cid => (await fetch(`/api/conversations/${cid}`)).json(), id)
    expect(stored.title).toBe('Renamed by the test')
    await screenshot(page, 'chat-renamed-light-en')

    await row.hover()
    await row.getByTestId('conversation-menu').click()
    await page.getByTestId('conversation-delete').click()
    await page.getByTestId('confirm-delete').click()
    await page.waitForURL(url => url.pathname === '/')
    await expect.poll(() => page.locator(`a[href="/c/${id}"]`).count()).toBe(0)
    const status = await page.evaluate(async cid => (await fetch(`/api/conversations/${cid}`)).status, id)
    expect(status).toBe(404)
    expect(errors.filter(e => !e.includes('404'))).toEqual([])
    await context.close()
  })

  it('exports Markdown (content checked) and a real PDF', async () => {
    const { page, errors, context } = await newPage(browser, server.url, { acceptDownloads: true })
    await signIn(page)
    await pickModel(page, 'demo')
    await askInComposer(page, 'Export me with $x^2$ please')
    await page.waitForURL(/\/c\/[\w-]+$/)
    await expect.poll(() => lastAnswer(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('done')

    await page.getByTestId('export-menu').click()
    const [mdDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-md').click()])
    expect(mdDownload.suggestedFilename()).toMatch(/\.md$/)
    const md = readFileSync((await mdDownload.path())!, 'utf8')
    const title = await page.getByTestId('chat-title').textContent()
    expect(md.split('\n')[0]).toBe(`# ${title!.trim()}`)
    expect(md).toContain('- Model: Demo (offline)')
    expect(md).toMatch(/^## You$/m)
    expect(md).toMatch(/^## Assistant$/m)
    expect(md).toContain('Export me with $x^2$ please')
    expect(md).toContain('$$')
    expect(md).toContain('```typescript')

    await page.getByTestId('export-menu').click()
    const [pdfDownload] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId('export-pdf').click()])
    expect(pdfDownload.suggestedFilename()).toMatch(/\.pdf$/)
    const pdf = readFileSync((await pdfDownload.path())!)
    await pdfDownload.saveAs(path.join(ARTIFACTS, 'chat-export.pdf'))
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-')
    expect(pdf.length).toBeGreaterThan(20_000)
    expect(errors).toEqual([])
    await context.close()
  })

  it('opens a long conversation at the bottom, renders older answers when scrolled to, exports them all', async () => {
    const pairs = 40
    const { page, errors, context } = await newPage(browser, server.url, { colorScheme: 'light', acceptDownloads: true })
    await signIn(page)
    const id = seedLong(server.dataDir, pairs)
    await page.goto(`/c/${id}`)
    const answers = page.getByTestId('message-assistant')
    await expect.poll(() => answers.count(), { timeout: 20_000 }).toBe(pairs)
    // opened at the bottom with the newest answer rendered; the oldest ones wait off screen
    await expect.poll(() => lastAnswer(page).locator('.md-body .katex-display').count()).toBeGreaterThan(0)
    const scroller = page.getByTestId('chat-scroller')
    await expect.poll(() => scroller.evaluate(el => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(80)
    expect(await answers.first().locator('.md-body').getAttribute('data-pending')).toBe('true')
    expect(await page.locator('.md-body[data-pending]').count()).toBeLessThan(pairs)
    expect(await page.getByTestId('jump-to-bottom').count()).toBe(0)

    // scrolled to the top: the first answer is rendered, and the jump button brings us back down
    await scroller.evaluate(el => el.scrollTo({ top: 0 }))
    await expect.poll(() => answers.first().locator('.md-body .katex').count()).toBeGreaterThan(0)
    expect(await answers.first().locator('.md-body').getAttribute('data-pending')).toBeNull()
    await page.getByTestId('jump-to-bottom').click()
    await expect.poll(() => scroller.evaluate(el => el.scrollHeight - el.scrollTop - el.clientHeight), { timeout: 10_000 }).toBeLessThan(80)
    await expect.poll(() => page.getByTestId('jump-to-bottom').count()).toBe(0)

    // the action buttons share one tooltip; the raw toggle and copy still work
    await lastAnswer(page).getByTestId('toggle-raw').hover()
    await expect.poll(() => page.locator('.n-tooltip').last().textContent()).toContain('raw')
    await screenshot(page, 'chat-long-tools-light-en')
    await lastAnswer(page).getByTestId('toggle-raw').click()
    expect(await lastAnswer(page).getByTestId('raw-text').textContent()).toContain('$$')
    await lastAnswer(page).getByTestId('toggle-raw').click()
    expect(await lastAnswer(page).locator('.md-body .katex-display').count()).toBeGreaterThan(0)
    await context.grantPermissions(['clipboard-read', 'clipboard-write'])
    await lastAnswer(page).getByTestId('copy-reply').click()
    await expect.poll(() => page.locator('.n-tooltip').last().textContent()).toContain('Copied')

    // the Markdown export holds every message, rendered on screen or not
    await page.getByTestId('export-menu').click()
    const [mdDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-md').click()])
    const md = readFileSync((await mdDownload.path())!, 'utf8')
    for (const n of [1, 2, pairs / 2, pairs])
      expect(md).toContain(`Seeded question number ${n} about`)
    expect(md.match(/^## Assistant$/gm)?.length).toBe(pairs)
    expect(errors).toEqual([])
    await context.close()
  })

  it('speaks Chinese in the dark theme', async () => {
    const { page, errors, context } = await newPage(browser, server.url, { colorScheme: 'dark', locale: 'zh-CN' })
    await context.addInitScript(() => {
      localStorage.setItem('cws.language', 'zh-CN')
      localStorage.setItem('cws.theme', 'dark')
    })
    await signIn(page)
    expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(true)
    await expect.poll(() => page.getByTestId('composer-input').getAttribute('placeholder')).toContain('发消息')
    await screenshot(page, 'chat-empty-dark-zh-CN')
    await pickModel(page, 'demo')
    await askInComposer(page, '用数学和代码解释二分查找')
    await expect.poll(() => lastAnswer(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('done')
    expect(await lastAnswer(page).locator('.katex').count()).toBeGreaterThan(0)
    expect(await page.getByTestId('conversation-list').textContent()).toContain('今天')
    // The code's languages load on first use; the answer repaints highlighted when they arrive.
    await lastAnswer(page).locator('.md-code .hljs-keyword').first().waitFor()
    await page.locator('.md-code').first().scrollIntoViewIfNeeded()
    await screenshot(page, 'chat-answer-dark-zh-CN')
    expect(errors).toEqual([])
    await context.close()
  })

  it('works on a phone: drawer sidebar, composer above the fold', async () => {
    const { page, errors, context } = await newPage(browser, server.url, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'light' })
    await signIn(page)
    await screenshot(page, 'chat-phone-empty')
    const box = await page.getByTestId('composer-input').boundingBox()
    expect(box!.y + box!.height).toBeLessThan(844)
    await pickModel(page, 'demo')
    await page.getByTestId('composer-input').fill('Binary search on a phone')
    await page.getByTestId('send').click()
    await expect.poll(() => lastAnswer(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('done')
    await screenshot(page, 'chat-phone-answer')
    await page.getByTestId('menu-button').click()
    await page.getByTestId('sidebar-drawer').waitFor()
    expect(await page.getByTestId('conversation-item').count()).toBeGreaterThan(0)
    await screenshot(page, 'chat-phone-drawer')
    expect(errors).toEqual([])
    await context.close()
  })
})
