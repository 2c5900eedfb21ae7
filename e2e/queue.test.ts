import type { Browser } from 'playwright-core'
import type { RunningServer } from './support/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { askInComposer, launchBrowser, screenshot, signedInPage, SKIP_BROWSER_TESTS } from './support/browser'
import { createUser, startServerWithConfig } from './support/server'

// One slow upstream with a single slot: the second member's ask has to wait in line.
const UPSTREAMS = [{ id: 'demo', type: 'demo', concurrency: 1, speed: 25, first_token_ms: 100, models: [{ key: 'demo', name: 'Demo (offline)', slug: 'demo' }] }]
const ANN = { username: 'ann', password: 'e2e-Queue-Ann-51c2' }
const BEN = { username: 'ben', password: 'e2e-Queue-Ben-83d4' }

describe.skipIf(SKIP_BROWSER_TESTS)('the fair queue, as members see it', () => {
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    server = await startServerWithConfig({ upstreams: UPSTREAMS })
    await createUser(server.url, ANN)
    await createUser(server.url, BEN)
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('a waiting member sees their place in line, and starts as soon as the slot frees', async () => {
    const ann = await signedInPage(browser, server.url, ANN)
    const ben = await signedInPage(browser, server.url, BEN)

    await askInComposer(ann.page, 'A long answer, please')
    await expect.poll(() => ann.page.getByTestId('message-assistant').last().getAttribute('data-status'), { timeout: 15_000 }).toBe('streaming')
    await expect.poll(async () => (await ann.page.getByTestId('message-assistant').last().textContent())?.length ?? 0, { timeout: 15_000 }).toBeGreaterThan(20)

    await askInComposer(ben.page, 'My turn?')
    const waiting = ben.page.getByTestId('waiting')
    await expect.poll(() => waiting.textContent(), { timeout: 15_000 }).toMatch(/Waiting in line: position 1/)
    expect(await ben.page.getByTestId('stop').isVisible()).toBe(true)
    // Already named after the question while it waits.
    expect(await ben.page.getByTestId('chat-title').textContent()).toContain('My turn')
    await screenshot(ben.page, 'queue-waiting-en')

    // Ann stops; Ben's answer starts streaming into his page.
    await ann.page.getByTestId('stop').click()
    await expect.poll(() => ann.page.getByTestId('message-assistant').last().getAttribute('data-status'), { timeout: 10_000 }).toBe('stopped')
    await expect.poll(async () => (await ben.page.getByTestId('message-assistant').last().textContent()) ?? '', { timeout: 15_000 }).toContain('My turn?')
    await screenshot(ben.page, 'queue-started-en')

    await ben.page.getByTestId('stop').click()
    await expect.poll(() => ben.page.getByTestId('message-assistant').last().getAttribute('data-status'), { timeout: 10_000 }).toBe('stopped')
    expect(ann.errors).toEqual([])
    expect(ben.errors).toEqual([])
    await ann.context.close()
    await ben.context.close()
  }, 120_000)
})
