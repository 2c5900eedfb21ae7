/**
 * Chat page weight (run by hand after `pnpm build` at the root: `pnpm bench:page`, i.e.
 * `cd backend && npx tsx ../bench/page-weight.ts`; not part of the test suite). Starts the REAL
 * built server (temporary data dir, one demo upstream) and Debian's chromium, signs a member in
 * through the login form, then, in a fresh context with only that session cookie and an empty cache:
 *
 *   1. loads the chat page (`/`) until the network is idle: every JS and CSS response with its size
 *      as transferred (the encoded body, what went over the wire) and decoded;
 *   2. asks one question whose answer has code in two languages and math, and counts what that loads
 *      on top (the highlight.js languages and KaTeX, loaded when an answer needs them).
 *
 * Prints one line per file (largest first), then the totals. Env: CHROMIUM_PATH, BENCH_FILES=0 to
 * print only the totals.
 */
import type { Page, Response } from 'playwright-core'
import process from 'node:process'
import { askInComposer, launchBrowser, loginThroughForm, newPage } from '../e2e/support/browser'
import { createUser, startServerWithConfig } from '../e2e/support/server'

const MEMBER = { username: 'bench', password: 'bench-Member-Pass-4e2a' }
const UPSTREAMS = [{ id: 'demo', type: 'demo', speed: 4000, first_token_ms: 20, models: [{ key: 'demo', name: 'Demo', slug: 'demo' }] }]

interface Loaded { url: string, kind: 'js' | 'css', encoded: number, decoded: number, encoding: string }

function kindOf(res: Response): 'js' | 'css' | null {
  const type = res.headers()['content-type'] ?? ''
  if (type.includes('javascript'))
    return 'js'
  if (type.includes('text/css'))
    return 'css'
  return null
}

/** Records every JS/CSS response of `page` from now on; `stop()` waits for their bodies and returns them. */
function record(page: Page): { stop: () => Promise<Loaded[]> } {
  const pending: Promise<Loaded | null>[] = []
  const onResponse = (res: Response) => {
    const kind = kindOf(res)
    if (!kind)
      return
    pending.push((async () => {
      const body = await res.body()
      const sizes = await res.request().sizes()
      return { url: new URL(res.url()).pathname, kind, encoded: sizes.responseBodySize, decoded: body.length, encoding: res.headers()['content-encoding'] ?? 'identity' }
    })())
  }
  page.on('response', onResponse)
  return {
    stop: async () => {
      page.off('response', onResponse)
      return (await Promise.all(pending)).filter((x): x is Loaded => x !== null)
    },
  }
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`

function report(title: string, files: Loaded[]): void {
  console.log(`\n${title}`)
  if (process.env.BENCH_FILES !== '0') {
    for (const f of [...files].sort((a, b) => b.encoded - a.encoded))
      console.log(`  ${f.kind.padEnd(3)} ${kb(f.encoded).padStart(9)} transferred (${f.encoding.padEnd(8)}) ${kb(f.decoded).padStart(9)} decoded  ${f.url}`)
  }
  for (const kind of ['js', 'css'] as const) {
    const of = files.filter(f => f.kind === kind)
    const encoded = of.reduce((s, f) => s + f.encoded, 0)
    const decoded = of.reduce((s, f) => s + f.decoded, 0)
    console.log(`  ${kind.toUpperCase()}: ${of.length} files, ${kb(encoded)} transferred, ${kb(decoded)} decoded`)
  }
}

async function main(): Promise<void> {
  const server = await startServerWithConfig({ upstreams: UPSTREAMS })
  const browser = await launchBrowser()
  try {
    await createUser(server.url, { ...MEMBER, role: 'member' })
    const login = await newPage(browser, server.url)
    await login.page.goto('/login')
    await loginThroughForm(login.page, MEMBER.username, MEMBER.password)
    await login.page.getByTestId('composer-input').waitFor()
    const storageState = await login.context.storageState()
    await login.context.close()

    // A fresh context: empty HTTP cache, only the session cookie.
    const { page, context, errors } = await newPage(browser, server.url, { storageState })
    const first = record(page)
    await page.goto('/', { waitUntil: 'networkidle' })
    await page.getByTestId('composer-input').waitFor()
    const initial = await first.stop()
    report('chat page, signed in, empty cache (until the network is idle)', initial)

    const second = record(page)
    await askInComposer(page, 'Explain binary search with math and code')
    const answer = page.getByTestId('message-assistant').last()
    await answer.and(page.locator('[data-status="done"]')).waitFor({ timeout: 30_000 })
    await answer.locator('.katex').first().waitFor()
    await answer.locator('.hljs-keyword').first().waitFor()
    await page.waitForLoadState('networkidle')
    const extra = await second.stop()
    report('loaded on top by an answer with code (TypeScript, Python) and math', extra)
    if (errors.length)
      console.log(`\npage errors: ${errors.join('\n')}`)
    await context.close()
  }
  finally {
    await browser.close()
    await server.stop()
  }
}

await main()
