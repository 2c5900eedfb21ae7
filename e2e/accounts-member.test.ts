import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import type { FakeUpstream } from '../backend/test/fake-upstream/server'
import type { TestPage } from './support/browser'
import type { RunningServer } from './support/server'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeUpstream } from '../backend/test/fake-upstream/server'
import { askInComposer, launchBrowser, pageErrors, screenshot, signedInPage, SKIP_BROWSER_TESTS } from './support/browser'
import { apiLogin, createUser, startServerWithConfig } from './support/server'

const MEMBER = { username: 'nora', password: 'e2e-Nora-Pass-3f71d2' }
const TOKEN_B = 'fake-access-token-account-b-5a1c'
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }

/**
 * The member's side of shared-account pools (issue #14) in a real browser against the real built
 * server, with a fake ChatGPT on 127.0.0.1 behind two accounts told apart by their token: the
 * banner and the picker mark when every account is down or cooling down, the fallback offered and
 * remembered across a reload, and "continue in a new conversation" when the account holding a
 * conversation is refused. Screenshots land in e2e/artifacts/accounts-member-*.png.
 */
describe.skipIf(SKIP_BROWSER_TESTS)('shared accounts, as a member sees them', () => {
  let fake: FakeUpstream
  let server: RunningServer
  let browser: Browser
  const opened: TestPage[] = []

  async function member(opts: BrowserContextOptions = {}): Promise<TestPage> {
    const p = await signedInPage(browser, server.url, MEMBER, { colorScheme: 'light', ...opts })
    opened.push(p)
    return p
  }

  /** The ChatGPT conversation requests the fake received from index `from` on. */
  const asked = (from = 0) => fake.requests.slice(from).filter(r => r.method === 'POST' && r.path.endsWith('/backend-api/conversation'))
  const tokenOf = (r: { headers: Record<string, unknown> }) => String(r.headers.authorization).replace('Bearer ', '')
  const answer = (page: Page) => page.getByTestId('message-assistant').last()

  async function pickModel(page: Page, key: string): Promise<void> {
    await page.getByTestId('model-picker').click()
    await page.getByTestId(`model-option-${key}`).click()
  }

  /** An ask through the API as the member: how it ended (the last event), or the JSON error. */
  async function apiAsk(body: object): Promise<string> {
    const cookie = await apiLogin(server.url, MEMBER.username, MEMBER.password)
    const res = await fetch(`${server.url}/api/chat`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Cookie': cookie }, body: JSON.stringify(body) })
    return res.text()
  }

  beforeAll(async () => {
    fake = await startFakeUpstream({ knobs: { chunks: 4, gapMs: 20 } })
    fake.accepted.add(TOKEN_B)
    server = await startServerWithConfig({
      chat: { queue_max_wait_seconds: 3600 },
      upstreams: [{
        id: 'web',
        type: 'chatgpt-web',
        base_url: fake.chatgptBaseUrl,
        models: [
          { key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o', fallback: 'gpt-35' },
          { key: 'gpt-35', name: 'GPT-3.5', slug: 'text-davinci-002-render-sha' },
        ],
        accounts: [
          { id: 'a', access_token: fake.accessToken, caps: { 'gpt-35': { asks: 40, hours: 3 } } },
          { id: 'b', access_token: TOKEN_B, caps: { 'gpt-35': { asks: 40, hours: 3 } } },
        ],
      }],
    })
    await createUser(server.url, MEMBER)
    browser = await launchBrowser()
  })
  afterEach(async () => {
    await Promise.all(opened.splice(0).map(p => p.context.close().catch(() => {})))
    fake.knobsFor.clear()
    // Whatever a failed test left waiting in line stops (the member's next ask would wait behind it).
    const cookie = await apiLogin(server.url, MEMBER.username, MEMBER.password)
    const list = await (await fetch(`${server.url}/api/conversations`, { headers: { Cookie: cookie } })).json() as { items: Array<{ activeRequestId: string | null }> }
    for (const c of list.items.filter(c => c.activeRequestId))
      await fetch(`${server.url}/api/chat/${c.activeRequestId}/stop`, { method: 'POST', headers: { Cookie: cookie } })
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await fake?.close()
  })

  it('every account cooling down: the waiting answer says why, the fallback is taken in one click and remembered after a reload', async () => {
    fake.knobsFor.set(fake.accessToken, { status: 429, clearsIn: 720 })
    fake.knobsFor.set(TOKEN_B, { status: 429, clearsIn: 720 })
    const { page, errors } = await member()
    const from = fake.requests.length
    await askInComposer(page, 'Explain entropy in two sentences')
    // Both accounts answered 429 with clears_in: the ask waits in line for them, and says so.
    await expect.poll(() => answer(page).textContent(), { timeout: 20_000 }).toContain('Waiting: about 12 min, the account is cooling down')
    expect(new Set(asked(from).map(tokenOf))).toEqual(new Set([fake.accessToken, TOKEN_B]))
    // The rate limit was only for GPT-4o; the fallback answers.
    fake.knobsFor.clear()
    const banner = page.getByTestId('pool-banner')
    await banner.waitFor()
    expect(await banner.getAttribute('data-state')).toBe('cooling')
    expect(await page.getByTestId('pool-banner-text').textContent()).toMatch(/^GPT-4o is cooling down until about \d\d:\d\d(?: [AP]M)?\. Wait, or use GPT-3\.5 instead\.$/)
    await expect.poll(() => page.getByTestId('model-picker-sub').textContent(), { timeout: 10_000 }).toMatch(/^Cooling down, back about \d\d:\d\d(?: [AP]M)?$/)
    expect(await page.getByTestId('status-pool').textContent()).toMatch(/GPT-4o: Cooling down, back about \d\d:\d\d(?: [AP]M)?/)
    await screenshot(page, 'accounts-member-cooling-light-en')
    await page.getByTestId('model-picker').click()
    await page.getByTestId('model-option-gpt-35').waitFor()
    expect(await page.getByTestId('model-option-gpt-4o').textContent()).toMatch(/Cooling down, back about \d\d:\d\d(?: [AP]M)?/)
    expect(await page.getByTestId('model-option-gpt-35').textContent()).toContain('about 80 of 80 left for the group')
    await screenshot(page, 'accounts-member-picker-light-en')
    await page.keyboard.press('Escape')

    // One click: the waiting ask is stopped (nothing was written) and the question is answered by the fallback.
    const fallback = page.getByTestId('pool-fallback')
    expect(await fallback.textContent()).toBe('Use GPT-3.5 for this conversation')
    const before = fake.requests.length
    await fallback.click()
    await expect.poll(() => answer(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('done')
    expect(asked(before).map(r => r.body.model)).toEqual(['text-davinci-002-render-sha'])
    expect(await answer(page).textContent()).toContain('Explain entropy')
    const note = page.getByTestId('fallback-note')
    await note.waitFor()
    expect(await note.textContent()).toContain('This conversation uses GPT-3.5 while GPT-4o cannot answer.')
    expect(await page.getByTestId('pool-banner').count()).toBe(0)
    await expect.poll(() => page.getByTestId('status-pool').textContent(), { timeout: 10_000 }).toMatch(/GPT-3\.5: about 79 of 80 left for the group until \d\d:\d\d(?: [AP]M)?/)
    await screenshot(page, 'accounts-member-fallback-light-en')

    // Remembered for this conversation: after a reload it still uses the fallback, and asks with it.
    await page.waitForURL(/\/c\//)
    const conversation = page.url()
    await page.reload()
    await page.getByTestId('fallback-note').waitFor()
    expect(await page.getByTestId('model-picker').textContent()).toContain('GPT-3.5')
    const again = fake.requests.length
    await askInComposer(page, 'And in one word?')
    await expect.poll(() => answer(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('done')
    expect(asked(again).map(r => r.body.model)).toEqual(['text-davinci-002-render-sha'])

    // A new conversation is asked with the member's usual model again, and offered the fallback again.
    await page.goto('/')
    await page.getByTestId('pool-banner').waitFor()
    expect(await page.getByTestId('model-picker').textContent()).toContain('GPT-4o')
    await page.goto(conversation)
    await page.getByTestId('fallback-note').waitFor()
    expect(pageErrors(errors)).toEqual([])

    // The same, in the other language, dark, and on a phone. The choice is kept in this browser
    // (localStorage, FALLBACK_STORAGE_KEY): the same browser's storage, seen in each look.
    const kept = await page.evaluate(key => localStorage.getItem(key), 'cws.chat.fallbacks')
    expect(kept).toContain('"model":"gpt-35"')
    const storageState = { cookies: [], origins: [{ origin: server.url, localStorage: [{ name: 'cws.chat.fallbacks', value: kept! }] }] }
    for (const [name, look] of [
      ['dark-zh-CN', { colorScheme: 'dark', locale: 'zh-CN' }],
      ['phone-light-en', PHONE],
      ['phone-dark-zh-CN', { ...PHONE, colorScheme: 'dark', locale: 'zh-CN' }],
    ] as Array<[string, BrowserContextOptions]>) {
      const p = await member({ ...look, storageState })
      await p.page.getByTestId('pool-banner').waitFor()
      if (name.includes('zh-CN'))
        expect(await p.page.getByTestId('pool-banner-text').textContent()).toMatch(/^GPT-4o 正在冷却，约 \d\d:\d\d(?: [AP]M)? 恢复。可以等待，或改用 GPT-3\.5。$/)
      await screenshot(p.page, `accounts-member-cooling-${name}`)
      await p.page.goto(conversation)
      await p.page.getByTestId('fallback-note').waitFor()
      await screenshot(p.page, `accounts-member-fallback-${name}`)
      expect(pageErrors(p.errors)).toEqual([])
    }
  }, 180_000)

  it('the account holding a conversation is refused: "continue in a new conversation" keeps the question and lands in the new one with the answer', async () => {
    const { page, errors } = await member()
    await page.goto('/')
    await pickModel(page, 'gpt-35')
    const from = fake.requests.length
    await askInComposer(page, 'My cat is called Miso')
    await expect.poll(() => answer(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('done')
    await page.waitForURL(/\/c\//)
    const old = page.url()
    const holder = tokenOf(asked(from).at(-1)!)
    fake.knobsFor.set(holder, { status: 401 })
    // The next question meets the refusal (the conversation cannot move by itself) ...
    await askInComposer(page, 'What is my cat called?')
    await expect.poll(() => answer(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('error')
    // ... and from then on the member is told why, with the way on; the question stays in the composer.
    await askInComposer(page, 'What is my cat called?')
    const error = page.getByTestId('composer-error')
    await error.waitFor()
    expect(await error.getAttribute('data-code')).toBe('ACCOUNT_UNAVAILABLE')
    expect(await error.textContent()).toContain('ChatGPT signed out the shared account that held this conversation. Continue in a new conversation: it takes your question')
    expect(await error.textContent()).not.toContain('cannot answer any more')
    expect(await page.getByTestId('composer-input').inputValue()).toBe('What is my cat called?')
    await screenshot(page, 'accounts-member-account-unavailable-light-en')

    const before = fake.requests.length
    await page.getByTestId('composer-error-action').click()
    await page.waitForURL(url => url.href !== old && /\/c\//.test(url.pathname))
    await expect.poll(() => answer(page).getAttribute('data-status'), { timeout: 20_000 }).toBe('done')
    expect(await page.getByTestId('composer-input').inputValue()).toBe('')
    expect(await page.getByTestId('message-user').last().textContent()).toContain('What is my cat called?')
    // The other account answered, with the earlier turns as context.
    const sent = asked(before)
    expect(sent.map(tokenOf)).not.toContain(holder)
    expect(String(sent.at(-1)!.body.messages[0].content.parts[0])).toContain('Miso')
    await screenshot(page, 'accounts-member-continued-light-en')

    // The old conversation is still readable, one step back.
    await page.goBack()
    await page.waitForURL(old)
    await expect.poll(() => page.getByTestId('message-user').first().textContent()).toContain('My cat is called Miso')
    // The one console error is the browser's note of the refusal above (ACCOUNT_UNAVAILABLE is a 503).
    expect(pageErrors(errors)).toEqual(['console: Failed to load resource: the server responded with a status of 503 (Service Unavailable)'])
  }, 120_000)

  it('every account refused: the banner says so and what to do, the picker marks the model', async () => {
    // After the test before, one account is refused already; now the other refuses too: the pool is down.
    fake.knobsFor.set(fake.accessToken, { status: 401 })
    fake.knobsFor.set(TOKEN_B, { status: 401 })
    expect(await apiAsk({ model: 'gpt-35', content: 'anyone there?' })).toContain('UPSTREAM_UNAUTHORIZED')
    const { page, errors } = await member()
    const banner = page.getByTestId('pool-banner')
    await banner.waitFor()
    expect(await banner.getAttribute('data-state')).toBe('down')
    expect(await page.getByTestId('pool-banner-text').textContent()).toBe('Every account for GPT-4o is down; the administrator has been told. Try again later, or pick another model.')
    // The fallback is down too: nothing is offered that cannot answer.
    expect(await page.getByTestId('pool-fallback').count()).toBe(0)
    expect(await page.getByTestId('model-picker-sub').textContent()).toBe('All accounts are down')
    expect(await page.getByTestId('status-pool').textContent()).toContain('GPT-4o: All accounts are down')
    await screenshot(page, 'accounts-member-down-light-en')

    // The accounts work again: the next ask finds out (a refused account is tried when none is sound);
    // GPT-4o is back to what it was before (cooling down, from the test before), offered the fallback again.
    fake.knobsFor.clear()
    expect(await apiAsk({ model: 'gpt-35', content: 'back?' })).toContain('event: done')
    await expect.poll(() => banner.getAttribute('data-state'), { timeout: 35_000 }).toBe('cooling')
    await page.getByTestId('pool-fallback').waitFor()
    expect(pageErrors(errors)).toEqual([])
  }, 120_000)
})
