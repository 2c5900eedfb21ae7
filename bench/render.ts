/**
 * Chat rendering benchmark (run by hand after `pnpm build` at the root:
 * `cd backend && npx tsx ../bench/render.ts`; not part of the test suite). Starts the REAL built
 * server (temporary data dir, a demo upstream through a config file, like the browser tests) and
 * Debian's chromium, seeds into the SQLite file a conversation of 200 messages (100 question/answer
 * pairs; every answer has a heading, a list, a table, TypeScript and Python code, inline and block
 * math, and differs from the others) and a 2-message baseline conversation, then measures:
 *
 *   - opening each conversation from the sidebar until its last message is rendered and painted
 *     (cold: first open, nothing memoised; warm: median of re-opens) — 200 vs 2 messages as a ratio —
 *     and the long tasks from the click until 1.5 s later (work deferred past that paint included);
 *   - the same question asked and streamed in each conversation: frame intervals
 *     (requestAnimationFrame deltas p50/p95/max) and long tasks (PerformanceObserver 'longtask'),
 *     while the answer streams (first text → done) and over the whole ask (Enter → done);
 *   - how often finished messages change while an answer streams: DOM mutations inside the
 *     Markdown of finished answers (a re-render of MarkdownContent; must be 0) and nodes replaced.
 *
 * Both conversations are measured in the same run, interleaved, so the noisy machine affects both
 * sides alike. Prints one line per figure.
 * Env: BENCH_PAIRS (100), BENCH_ROUNDS (3: re-opens and asks per conversation), BENCH_SPEED (300
 * characters per second streamed by the demo upstream), CHROMIUM_PATH; BENCH_DEBUG=1 prints every
 * ask's long tasks, BENCH_CPU_PROF=dir saves a V8 CPU profile of every ask.
 */
import type { Page } from 'playwright-core'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { demoAnswer } from '../backend/src/modules/providers/demo/demo.answer'
import { launchBrowser, loginThroughForm, newPage } from '../e2e/support/browser'
import { createUser, startServer } from '../e2e/support/server'

const backendDir = fileURLToPath(new URL('../backend/', import.meta.url))
const require = createRequire(path.join(backendDir, 'package.json'))
const Database = require('better-sqlite3') as typeof import('better-sqlite3')

const PAIRS = Number(process.env.BENCH_PAIRS ?? 100)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const SPEED = Number(process.env.BENCH_SPEED ?? 300)
const MEMBER = { username: 'bench', password: 'bench-Member-Pass-4e2a' }
const MODEL = 'demo'
const QUESTION = 'Explain counting words with math and code, please'

const UPSTREAMS = [
  { id: 'demo', type: 'demo', speed: SPEED, first_token_ms: 100, models: [{ key: MODEL, name: 'Demo', slug: 'demo' }] },
]

const QUESTIONS = [
  'How does binary search work',
  'Show me a moving average',
  'Count the words of a text',
  'Which one is faster and why',
  'Can you give the complexity with a proof sketch',
]

/** Seeds a conversation of `pairs` question/answer pairs straight into the SQLite file (WAL: a second writer is fine). */
function seed(dbFile: string, userId: number, title: string, pairs: number, startMs: number): string {
  const db = new Database(dbFile, { timeout: 10_000 })
  const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00') // the Prisma adapter's format
  const id = `bench-${title.replace(/\W+/g, '-').toLowerCase()}`
  const endMs = startMs + pairs * 2 * 1000
  db.prepare('INSERT INTO "Conversation" ("id", "userId", "title", "model", "upstreamId", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(id, userId, title, MODEL, 'demo', iso(startMs), iso(endMs))
  const insert = db.prepare('INSERT INTO "Message" ("id", "conversationId", "parentId", "role", "content", "status", "model", "finishReason", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
  db.transaction(() => {
    let parent: string | null = null
    for (let i = 0; i < pairs; i++) {
      // Distinct questions → distinct answers (each quotes its question), so nothing is memoised twice.
      const question = `${QUESTIONS[i % QUESTIONS.length]} (question ${i + 1} of ${title})?`
      const q = `${id}-q${i}`
      const a = `${id}-a${i}`
      insert.run(q, id, parent, 'user', question, 'done', MODEL, null, iso(startMs + i * 2000), iso(startMs + i * 2000))
      insert.run(a, id, q, 'assistant', demoAnswer(question), 'done', MODEL, 'stop', iso(startMs + i * 2000 + 1000), iso(startMs + i * 2000 + 1000))
      parent = a
    }
  })()
  db.close()
  return id
}

// ---- in-page instrumentation (runs before the app's own scripts) ----

interface Window2 {
  frames: number[]
  longtasks: { start: number, duration: number }[]
  /** Event Timing entries of keydown (Enter): handler time, and input → next paint. */
  events: { start: number, processing: number, duration: number }[]
}

interface BenchWindow {
  __bench: Window2
  __benchAsk?: Promise<AskTrace>
}

interface AskTrace {
  t0: number
  tFirst: number
  tDone: number
  finishedAnswers: number
  /** Mutation records inside the Markdown of finished answers. */
  mdMutations: number
  /** Finished answers whose Markdown changed at all. */
  mdChanged: number
  /** Finished message nodes (or their Markdown) no longer in the document at the end (remounted). */
  replaced: number
  /** Mutation records elsewhere in finished messages (toolbar buttons appearing/disappearing…). */
  otherMutations: number
  otherChanged: number
  /** innerHTML writes of the growing answer. */
  streamingPaints: number
}

function instrument(): void {
  const w = window as unknown as BenchWindow
  w.__bench = { frames: [], longtasks: [], events: [] }
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      w.__bench.longtasks.push({ start: e.startTime, duration: e.duration })
  }).observe({ type: 'longtask', buffered: true })
  w.__bench.events = []
  new PerformanceObserver((list) => {
    for (const e of list.getEntries() as PerformanceEventTiming[]) {
      if (e.name === 'keydown')
        w.__bench.events.push({ start: e.startTime, processing: e.processingEnd - e.processingStart, duration: e.duration })
    }
  }).observe({ type: 'event', durationThreshold: 16, buffered: true } as PerformanceObserverInit)
  const loop = (t: number) => {
    w.__bench.frames.push(t)
    requestAnimationFrame(loop)
  }
  requestAnimationFrame(loop)
}

/** Opens conversation `id` from the sidebar; resolves when its `expected` messages are in the DOM, the last one rendered, and painted. */
function openInPage(args: { id: string, expected: number }): Promise<{ dom: number, painted: number }> {
  const { id, expected } = args
  return new Promise((resolve, reject) => {
    const link = document.querySelector<HTMLAnchorElement>(`a[href="/c/${id}"]`)
    if (!link) {
      reject(new Error(`no sidebar link to ${id}`))
      return
    }
    const ready = (): boolean => {
      if (location.pathname !== `/c/${id}`)
        return false
      const msgs = document.querySelectorAll('[data-testid="message-user"], [data-testid="message-assistant"]')
      if (msgs.length !== expected)
        return false
      return !!msgs[msgs.length - 1]!.querySelector('.md-body .katex-display')
    }
    const t0 = performance.now()
    const mo = new MutationObserver(() => {
      if (!ready())
        return
      mo.disconnect()
      const dom = performance.now() - t0
      // rAF runs before the frame's paint; a task queued from it runs after that paint.
      requestAnimationFrame(() => setTimeout(() => resolve({ dom, painted: performance.now() - t0 })))
    })
    mo.observe(document.body, { childList: true, subtree: true })
    link.click()
  })
}

/** Starts watching the ask about to be sent: resolves when the new answer is `done`. */
function watchAsk(): void {
  const w = window as unknown as BenchWindow
  const thread = document.querySelector('[data-testid="chat-scroller"]')!
  const articles = [...thread.querySelectorAll<HTMLElement>('[data-testid="message-user"], [data-testid="message-assistant"]')]
  const bodies = articles.map(a => a.querySelector<HTMLElement>('.md-body')).filter((b): b is HTMLElement => !!b)
  const mdTargets = new Set<Node>()
  const otherTargets = new Set<Node>()
  let mdMutations = 0
  let otherMutations = 0
  const md = new MutationObserver((records) => {
    for (const r of records) {
      mdMutations++
      mdTargets.add((r.target as Element).closest?.('.md-body') ?? r.target.parentElement!.closest('.md-body')!)
    }
  })
  for (const b of bodies)
    md.observe(b, { childList: true, subtree: true, characterData: true, attributes: true })
  const other = new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target instanceof Element ? r.target : r.target.parentElement
      if (el?.closest('.md-body'))
        continue
      otherMutations++
      otherTargets.add(el!.closest('[data-testid^="message-"]')!)
    }
  })
  for (const a of articles)
    other.observe(a, { childList: true, subtree: true, characterData: true, attributes: true })

  const t0 = performance.now()
  let tFirst = 0
  let streamingPaints = 0
  let streamingBody: Element | null = null
  w.__benchAsk = new Promise((resolve) => {
    // Cheap observers only (the page is being measured): the list's direct children until the new
    // answer shows up, then that answer's own subtree.
    const list = thread.querySelector<HTMLElement>('[data-testid="message-user"]')!.parentElement!
    const known = new Set<Node>(articles)
    const observers = [md, other]
    const onAnswer = (answer: Element, records: MutationRecord[]): void => {
      const body = answer.querySelector('.md-body')
      if (body !== streamingBody)
        streamingBody = body
      for (const r of records) {
        if (r.type === 'childList' && r.target === streamingBody && r.addedNodes.length)
          streamingPaints++
      }
      if (!tFirst && streamingBody?.textContent?.trim())
        tFirst = performance.now()
      if (answer.getAttribute('data-status') !== 'done')
        return
      const tDone = performance.now()
      for (const o of observers)
        o.disconnect()
      resolve({
        t0,
        tFirst,
        tDone,
        finishedAnswers: bodies.length,
        mdMutations,
        mdChanged: mdTargets.size,
        replaced: articles.filter(a => !a.isConnected).length + bodies.filter(b => !b.isConnected).length,
        otherMutations,
        otherChanged: otherTargets.size,
        streamingPaints,
      })
    }
    let answer: Element | null = null
    const answerWatcher = new MutationObserver(records => onAnswer(answer!, records))
    const listWatcher = new MutationObserver(() => {
      if (answer)
        return
      const fresh = [...list.children].filter(c => !known.has(c) && c.getAttribute('data-testid') === 'message-assistant')
      if (!fresh.length)
        return
      const found = fresh[fresh.length - 1]!
      answer = found
      answerWatcher.observe(found, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['data-status'] })
      onAnswer(found, [])
    })
    listWatcher.observe(list, { childList: true })
    observers.push(answerWatcher, listWatcher)
  })
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

// ---- statistics ----

function pct(values: number[], p: number): number {
  if (!values.length)
    return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!
}
const median = (v: number[]) => pct(v, 50)
const ms = (v: number) => `${v.toFixed(1)} ms`
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`

interface AskFigures { frameDeltas: number[], longtasks: number[], streamFrameDeltas: number[], streamLongtasks: number[], enter: { processing: number, duration: number }, trace: AskTrace }

function figures(bench: Window2, trace: AskTrace): AskFigures {
  const deltas = (from: number, to: number): number[] => {
    const out: number[] = []
    for (let i = 1; i < bench.frames.length; i++) {
      if (bench.frames[i - 1]! >= from && bench.frames[i]! <= to)
        out.push(bench.frames[i]! - bench.frames[i - 1]!)
    }
    return out
  }
  const tasks = (from: number, to: number) => bench.longtasks.filter(t => t.start + t.duration > from && t.start < to).map(t => t.duration)
  return {
    frameDeltas: deltas(trace.t0, trace.tDone),
    longtasks: tasks(trace.t0, trace.tDone),
    streamFrameDeltas: deltas(trace.tFirst, trace.tDone),
    streamLongtasks: tasks(trace.tFirst, trace.tDone),
    enter: bench.events.filter(e => e.start >= trace.t0 - 50).sort((a, b) => b.duration - a.duration)[0] ?? { processing: 0, duration: 0 },
    trace,
  }
}

async function ask(page: Page): Promise<AskFigures> {
  // Type first (Playwright's locators walk the whole DOM: not something to measure), let the open
  // settle, then watch and press Enter in the focused composer.
  await page.getByTestId('composer-input').fill(QUESTION)
  await page.waitForTimeout(800)
  await page.evaluate(() => {
    const w = window as unknown as BenchWindow
    w.__bench.frames.length = 0
    w.__bench.longtasks.length = 0
    w.__bench.events.length = 0
  })
  await page.evaluate(watchAsk)
  await page.keyboard.press('Enter')
  const trace = await withTimeout(page.evaluate(() => (window as unknown as BenchWindow).__benchAsk!), 60_000, 'the streamed answer')
  await page.waitForTimeout(300) // frames right after `done`
  const bench = await page.evaluate(() => (window as unknown as BenchWindow).__bench)
  if (process.env.BENCH_DEBUG) {
    const rel = (t: number) => (t - trace.t0).toFixed(0)
    console.log(`  ask: first text +${rel(trace.tFirst)} ms, done +${rel(trace.tDone)} ms; long tasks ${bench.longtasks.map(t => `+${rel(t.start)} ms (${t.duration.toFixed(0)} ms)`).join(', ') || 'none'}`)
  }
  return figures(bench, trace)
}

async function main(): Promise<void> {
  const configDir = mkdtempSync(path.join(tmpdir(), 'cws-bench-render-'))
  const configFile = path.join(configDir, 'config.yaml')
  // YAML is a superset of JSON: the config file is the JSON of the upstreams.
  writeFileSync(configFile, JSON.stringify({ upstreams: UPSTREAMS }))
  const server = await startServer({ CWS_CONFIG: configFile })
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined
  try {
    await createUser(server.url, MEMBER)
    const dbFile = path.join(server.dataDir, 'cws.db')
    const meta = new Database(dbFile, { readonly: true, timeout: 10_000 })
    const user = meta.prepare('SELECT "id" FROM "User" WHERE "username" = ?').get(MEMBER.username) as { id: number }
    meta.close()
    const now = Date.now()
    const longId = seed(dbFile, user.id, 'Long conversation', PAIRS, now - 3 * 86_400_000)
    const shortId = seed(dbFile, user.id, 'Short conversation', 1, now - 2 * 86_400_000)
    const longCount = PAIRS * 2

    browser = await launchBrowser()
    const { page, errors, context } = await newPage(browser, server.url, { colorScheme: 'light' })
    // tsx (esbuild's keepNames) wraps named inner functions in `__name(…)`; the page needs it too.
    await context.addInitScript({ content: 'globalThis.__name = (fn) => fn' })
    await context.addInitScript(instrument)
    await page.goto('/login')
    await loginThroughForm(page, MEMBER.username, MEMBER.password)
    await page.waitForURL(url => !url.pathname.startsWith('/login'))
    await page.getByTestId('composer-input').waitFor()
    await page.locator(`a[href="/c/${longId}"]`).waitFor()
    await page.waitForTimeout(500)

    // 1. Open: cold (first open of each), then warm re-opens, interleaved.
    const open = async (id: string, expected: number) => {
      if (new URL(page.url()).pathname === `/c/${id}`)
        return { dom: 0, painted: 0 }
      return withTimeout(page.evaluate(openInPage, { id, expected }), 60_000, `opening ${id}`)
    }
    /** Opens and then waits `settleMs`: the long tasks from the click until then (work deferred past the paint included). */
    const openSettled = async (id: string, expected: number, settleMs = 1500) => {
      await page.evaluate(() => {
        (window as unknown as BenchWindow).__bench.longtasks.length = 0
      })
      const timing = await open(id, expected)
      await page.waitForTimeout(settleMs)
      const tasks = await page.evaluate(() => (window as unknown as BenchWindow).__bench.longtasks.map(t => t.duration))
      return { ...timing, tasks }
    }
    const coldShort = await openSettled(shortId, 2)
    const coldLong = await openSettled(longId, longCount)
    const warmShort: number[] = []
    const warmLong: number[] = []
    const openTasks = { long: [...coldLong.tasks], short: [...coldShort.tasks] }
    for (let i = 0; i < ROUNDS; i++) {
      const s = await openSettled(shortId, 2)
      warmShort.push(s.painted)
      openTasks.short.push(...s.tasks)
      const l = await openSettled(longId, longCount)
      warmLong.push(l.painted)
      openTasks.long.push(...l.tasks)
    }
    const taskDesc = (v: number[]) => `${v.length} (max ${v.length ? ms(Math.max(...v)) : '-'}, total ${ms(v.reduce((a, b) => a + b, 0))})`
    console.log(`open, cold (first open, last message rendered+painted): ${longCount} messages ${ms(coldLong.painted)} (DOM ${ms(coldLong.dom)}), 2 messages ${ms(coldShort.painted)} (DOM ${ms(coldShort.dom)}), ratio ${ratio(coldLong.painted, coldShort.painted)}`)
    console.log(`open, warm (median of ${ROUNDS} re-opens): ${longCount} messages ${ms(median(warmLong))}, 2 messages ${ms(median(warmShort))}, ratio ${ratio(median(warmLong), median(warmShort))}`)
    console.log(`long tasks from the click to 1.5 s after opening (cold + ${ROUNDS} warm): ${longCount} messages ${taskDesc(openTasks.long)}; 2 messages ${taskDesc(openTasks.short)}`)

    // BENCH_CPU_PROF=dir: a V8 CPU profile of every ask (open in Chrome DevTools → Performance).
    const cdp = process.env.BENCH_CPU_PROF ? await context.newCDPSession(page) : null
    const profiled = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      if (!cdp)
        return run()
      await cdp.send('Profiler.enable')
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
      await cdp.send('Profiler.start')
      const result = await run()
      const { profile } = await cdp.send('Profiler.stop')
      mkdirSync(process.env.BENCH_CPU_PROF!, { recursive: true })
      writeFileSync(path.join(process.env.BENCH_CPU_PROF!, `${name}.cpuprofile`), JSON.stringify(profile))
      return result
    }

    // 2. The same ask streamed in each conversation, interleaved.
    const long: AskFigures[] = []
    const short: AskFigures[] = []
    let longNow = longCount
    let shortNow = 2
    for (let i = 0; i < ROUNDS; i++) {
      await open(longId, longNow)
      long.push(await profiled(`long-${i}`, () => ask(page)))
      longNow += 2
      await open(shortId, shortNow)
      short.push(await profiled(`short-${i}`, () => ask(page)))
      shortNow += 2
    }

    const all = (f: AskFigures[], k: 'frameDeltas' | 'longtasks' | 'streamFrameDeltas' | 'streamLongtasks') => f.flatMap(x => x[k])
    const streamSecs = (f: AskFigures[]) => median(f.map(x => (x.trace.tDone - x.trace.tFirst) / 1000))
    const frameLine = (label: string, k: 'frameDeltas' | 'streamFrameDeltas') => {
      const l = all(long, k)
      const s = all(short, k)
      console.log(`frame interval ${label}: ${longCount}+ messages p50 ${ms(pct(l, 50))} p95 ${ms(pct(l, 95))} max ${ms(Math.max(...l))} (${l.length} frames); 2+ messages p50 ${ms(pct(s, 50))} p95 ${ms(pct(s, 95))} max ${ms(Math.max(...s))} (${s.length} frames); p95 ratio ${ratio(pct(l, 95), pct(s, 95))}`)
    }
    const taskLine = (label: string, k: 'longtasks' | 'streamLongtasks') => {
      const l = all(long, k)
      const s = all(short, k)
      const desc = (v: number[]) => `${v.length} (max ${v.length ? ms(Math.max(...v)) : '-'}, total ${ms(v.reduce((a, b) => a + b, 0))})`
      console.log(`long tasks ${label} over ${ROUNDS} asks: ${longCount}+ messages ${desc(l)}; 2+ messages ${desc(s)}`)
    }
    console.log(`streamed answer: ${median(long.map(x => x.trace.streamingPaints))} repaints of the growing answer in ${streamSecs(long).toFixed(1)} s (${longCount}+ messages), ${median(short.map(x => x.trace.streamingPaints))} in ${streamSecs(short).toFixed(1)} s (2+ messages); Enter → first text ${ms(median(long.map(x => x.trace.tFirst - x.trace.t0)))} vs ${ms(median(short.map(x => x.trace.tFirst - x.trace.t0)))}`)
    console.log(`Enter (send) → next paint (Event Timing, median): ${longCount}+ messages ${ms(median(long.map(x => x.enter.duration)))} (handlers ${ms(median(long.map(x => x.enter.processing)))}), 2+ messages ${ms(median(short.map(x => x.enter.duration)))} (handlers ${ms(median(short.map(x => x.enter.processing)))}), ratio ${ratio(median(long.map(x => x.enter.duration)), median(short.map(x => x.enter.duration)))}`)
    frameLine('while streaming (first text → done)', 'streamFrameDeltas')
    frameLine('over the whole ask (Enter → done)', 'frameDeltas')
    taskLine('while streaming (first text → done)', 'streamLongtasks')
    taskLine('over the whole ask (Enter → done)', 'longtasks')
    const sum = (f: AskFigures[], k: keyof AskTrace) => f.reduce((n, x) => n + x.trace[k], 0)
    console.log(`finished answers re-rendered while streaming (Markdown DOM mutations; must be 0): ${longCount}+ messages ${sum(long, 'mdMutations')} mutations in ${sum(long, 'mdChanged')} answers, ${sum(long, 'replaced')} nodes replaced (of ${long.map(x => x.trace.finishedAnswers).join('/')} answers watched); 2+ messages ${sum(short, 'mdMutations')} mutations, ${sum(short, 'replaced')} replaced`)
    console.log(`other DOM changes in finished messages during an ask (toolbars; expected only on the previous last answer): ${longCount}+ messages ${sum(long, 'otherMutations')} mutations in ${sum(long, 'otherChanged')} messages over ${ROUNDS} asks; 2+ messages ${sum(short, 'otherMutations')} in ${sum(short, 'otherChanged')}`)
    if (errors.length)
      console.log(`browser errors: ${errors.join(' | ')}`)
    await context.close()
  }
  finally {
    await browser?.close()
    await server.stop()
    rmSync(configDir, { recursive: true, force: true })
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err)
  process.exit(1)
})
