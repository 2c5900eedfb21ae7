import type { Browser, Page } from 'playwright-core'
import type { RunningServer } from './support/server'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { askInComposer, launchBrowser, pageErrors, screenshot, signedInPage, SKIP_BROWSER_TESTS } from './support/browser'
import { createUser, startServerWithConfig } from './support/server'

// One slot, a slow answer: long enough to reload, go offline or open a second tab in the middle.
const UPSTREAMS = [{ id: 'demo', type: 'demo', concurrency: 1, speed: 120, first_token_ms: 100, models: [{ key: 'demo', name: 'Demo (offline)', slug: 'demo' }] }]
const who = (name: string) => ({ username: name, password: `e2e-Resume-${name}-7c1e` })
const [ANN, BEN, CAT, DAN] = ['ann', 'ben', 'cat', 'dan'].map(who) as [ReturnType<typeof who>, ReturnType<typeof who>, ReturnType<typeof who>, ReturnType<typeof who>]

/** Every page opened by a test, closed after it whatever happened (a failed test must not keep its ask running). */
const opened: Array<{ close: () => Promise<void> }> = []

async function signedIn(browser: Browser, url: string, user: { username: string, password: string }) {
  const p = await signedInPage(browser, url, user)
  opened.push(p.context)
  return p
}

const answer = (page: Page) => page.getByTestId('message-assistant').last()
const answerStatus = (page: Page) => answer(page).getAttribute('data-status')
const answerLength = async (page: Page) => (await answer(page).textContent())?.length ?? 0

/** The stored answer text of the conversation on screen (what the server wrote, through the member's own session). */
async function storedAnswer(page: Page): Promise<{ status: string, content: string }> {
  const id = new URL(page.url()).pathname.split('/').pop()!
  const res = await page.request.get(`/api/conversations/${id}`)
  const conv = await res.json() as { messages: Array<{ role: string, status: string, content: string }> }
  const last = conv.messages.filter(m => m.role === 'assistant').at(-1)!
  return { status: last.status, content: last.content }
}

/** What the page shows of the answer (its rendered content). */
async function shownText(page: Page): Promise<string> {
  return (await answer(page).getByTestId('message-content').textContent()) ?? ''
}

/**
 * The same conversation opened afresh (rendered from what is stored) ends up showing exactly what
 * `page` shows: the reference to compare a live page with. The fresh page paints in steps (plain
 * text, then Markdown, then highlighted code and math as they load), so it is read until it matches.
 */
async function expectFreshShowsTheSame(page: Page): Promise<void> {
  const shown = await shownText(page)
  const fresh = await page.context().newPage()
  await fresh.goto(page.url())
  await expect.poll(() => answerStatus(fresh), { timeout: 15_000 }).not.toBe('streaming')
  await expect.poll(() => shownText(fresh), { timeout: 15_000 }).toBe(shown)
  await fresh.close()
}

describe.skipIf(SKIP_BROWSER_TESTS)('answers survive the page', () => {
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    server = await startServerWithConfig({ upstreams: UPSTREAMS })
    for (const u of [ANN, BEN, CAT, DAN]) await createUser(server.url, u)
    browser = await launchBrowser()
  })
  afterEach(async () => {
    await Promise.all(opened.splice(0).map(c => c.close().catch(() => {})))
    // Whatever a failed test left running stops, so the next one finds the slot free.
    await new Promise(r => setTimeout(r, 300))
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('reloading the page during a long answer: it goes on in place and ends complete', async () => {
    const ann = await signedIn(browser, server.url, ANN)
    await askInComposer(ann.page, 'Tell me a long story')
    await expect.poll(() => answerLength(ann.page), { timeout: 15_000 }).toBeGreaterThan(40)
    await ann.page.waitForURL(/\/c\//)
    const before = await answerLength(ann.page)
    await ann.page.reload()
    // Back on the same conversation, still answering, and the text keeps growing from where it was.
    await expect.poll(() => answerStatus(ann.page), { timeout: 15_000 }).toBe('streaming')
    expect(await answerLength(ann.page)).toBeGreaterThanOrEqual(before - 5)
    await ann.page.getByTestId('conv-answering').first().waitFor({ state: 'visible' })
    await screenshot(ann.page, 'resume-after-reload-en')
    await expect.poll(() => answerStatus(ann.page), { timeout: 60_000 }).toBe('done')
    const stored = await storedAnswer(ann.page)
    expect(stored.status).toBe('done')
    expect(stored.content.length).toBeGreaterThan(200)
    // Nothing doubled or missing: the live page shows what a fresh load of the stored answer shows.
    await expectFreshShowsTheSame(ann.page)
    expect(pageErrors(ann.errors)).toEqual([])
    await ann.context.close()
  }, 120_000)

  it('reloading while 3rd in the queue: the place is kept and still shown', async () => {
    const ann = await signedIn(browser, server.url, ANN)
    const ben = await signedIn(browser, server.url, BEN)
    const cat = await signedIn(browser, server.url, CAT)
    const dan = await signedIn(browser, server.url, DAN)
    await askInComposer(ann.page, 'Hold the slot with a long answer')
    await expect.poll(() => answerStatus(ann.page), { timeout: 15_000 }).toBe('streaming')
    await askInComposer(ben.page, 'Ben waits')
    await expect.poll(() => ben.page.getByTestId('waiting').textContent(), { timeout: 15_000 }).toMatch(/position 1/)
    await askInComposer(cat.page, 'Cat waits')
    await expect.poll(() => cat.page.getByTestId('waiting').textContent(), { timeout: 15_000 }).toMatch(/position 2/)
    await askInComposer(dan.page, 'Dan waits')
    await expect.poll(() => dan.page.getByTestId('waiting').textContent(), { timeout: 15_000 }).toMatch(/position 3/)
    await dan.page.waitForURL(/\/c\//)
    await dan.page.reload()
    await expect.poll(() => dan.page.getByTestId('waiting').textContent(), { timeout: 15_000 }).toMatch(/position 3/)
    await screenshot(dan.page, 'resume-queued-after-reload-en')
    // The others leave; Dan's ask moves up and starts in the reloaded page.
    for (const p of [ann, ben, cat]) await p.page.getByTestId('stop').click()
    await expect.poll(() => answerStatus(dan.page), { timeout: 20_000 }).toBe('streaming')
    await dan.page.getByTestId('stop').click()
    await expect.poll(() => answerStatus(dan.page), { timeout: 10_000 }).toBe('stopped')
    for (const p of [ann, ben, cat, dan]) {
      expect(pageErrors(p.errors)).toEqual([])
      await p.context.close()
    }
  }, 120_000)

  it('two tabs on the same conversation both show the answer as it grows, and stop works from the second', async () => {
    const ann = await signedIn(browser, server.url, ANN)
    await askInComposer(ann.page, 'Two tabs, one answer')
    await expect.poll(() => answerLength(ann.page), { timeout: 15_000 }).toBeGreaterThan(20)
    await ann.page.waitForURL(/\/c\//)
    const second = await ann.context.newPage()
    await second.goto(ann.page.url())
    await expect.poll(() => answerStatus(second), { timeout: 15_000 }).toBe('streaming')
    const first = await answerLength(second)
    await expect.poll(() => answerLength(second), { timeout: 15_000 }).toBeGreaterThan(first + 20)
    await screenshot(second, 'resume-second-tab-en')
    await second.getByTestId('stop').click()
    await expect.poll(() => answerStatus(second), { timeout: 10_000 }).toBe('stopped')
    await expect.poll(() => answerStatus(ann.page), { timeout: 10_000 }).toBe('stopped')
    const stored = await storedAnswer(ann.page)
    expect(stored.status).toBe('stopped')
    expect(await shownText(ann.page)).toBe(await shownText(second))
    await expectFreshShowsTheSame(ann.page)
    expect(pageErrors(ann.errors)).toEqual([])
    await ann.context.close()
  }, 120_000)

  it('going offline and online again: the answer resumes and ends complete, without duplicated text', async () => {
    const ben = await signedIn(browser, server.url, BEN)
    await askInComposer(ben.page, 'A story on a train')
    await expect.poll(() => answerLength(ben.page), { timeout: 15_000 }).toBeGreaterThan(20)
    await ben.context.setOffline(true)
    await ben.page.getByTestId('chat-reconnecting').waitFor({ state: 'visible', timeout: 15_000 })
    await screenshot(ben.page, 'resume-offline-en')
    await ben.page.waitForTimeout(1500)
    await ben.context.setOffline(false)
    await expect.poll(() => answerStatus(ben.page), { timeout: 60_000 }).toBe('done')
    await ben.page.getByTestId('chat-reconnecting').waitFor({ state: 'hidden', timeout: 15_000 })
    const stored = await storedAnswer(ben.page)
    expect(stored.status).toBe('done')
    await expectFreshShowsTheSame(ben.page)
    expect(pageErrors(ben.errors)).toEqual([])
    await ben.context.close()
  }, 120_000)
})
