import type { UpstreamConfig } from '../../config/schema.js'
/**
 * The chat engine: admits an ask (validation, quota), stores the question and an empty `streaming`
 * answer, waits in the upstream's fair queue, streams the provider's answer to the member while
 * checkpointing it, and ends every ask exactly once (done, error, stop, disconnect, timeout,
 * shutdown) — freeing the queue slot, settling the quota reservation and writing the ask log.
 *
 * Stop semantics (the stop route, or the client going away): a waiting ask leaves the queue, a
 * running one has its upstream request aborted at once; the partial answer is kept with status
 * `stopped`, and the stream (if anyone still reads it) ends with `done {finishReason: "aborted"}`.
 * A server shutdown ends running answers as `interrupted` with `error {code: SERVICE_UNAVAILABLE}`.
 */
import type { ChatAction, ChatBody, ChatStreamEvents, ChatUsage } from '../../contracts/chat.js'
import type { ProviderRegistry } from '../providers/registry.js'
import type { AskInput, ChatTurn, FinishReason, Provider, ProviderEvent } from '../providers/types.js'
import type { Lease, QueuePosition, Ticket } from '../queue/fair-queue.js'
import type { QuotaGate, Reservation } from '../quotas/quota.types.js'
import type { ChatRepository, StoredConversation, StoredMessage } from './chat.repository.js'
import type { Checkpointer } from './checkpointer.js'
import { randomUUID } from 'node:crypto'
import { AppError } from '../../lib/errors.js'
import { codePoints } from '../../lib/text.js'
import { shortTitle } from '../providers/shared/title.js'
import { ProviderError } from '../providers/types.js'
import { FairQueue } from '../queue/fair-queue.js'

export interface ChatConfig {
  max_content_chars: number
  history_max_chars: number
  queue_max_depth: number
  queue_max_wait_seconds: number
}

export interface ChatLogger {
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
  error: (obj: object, msg?: string) => void
}

export interface ChatServiceDeps {
  repo: ChatRepository
  providers: ProviderRegistry
  quotaGate: () => QuotaGate
  checkpointer: Checkpointer
  config: () => ChatConfig
  logger: ChatLogger
  now: () => Date
}

/** Where a prepared ask sends its events (the SSE stream). */
export interface ChatSink {
  send: <K extends keyof ChatStreamEvents>(event: K, data: ChatStreamEvents[K]) => void
  end: () => void
}

type StopReason = 'stop' | 'disconnect' | 'shutdown'

/** How long `genTitle` may take before the answer is reported done without it. */
const GEN_TITLE_TIMEOUT_MS = 5000

/** Safety net above the provider's own idle timeout: a provider that neither yields nor throws is cut. */
const IDLE_MARGIN_MS = 5000

export class AskRun {
  readonly requestId: string
  state: 'queued' | 'running' | 'ended' = 'queued'
  stopReason: StopReason | undefined
  private sink: ChatSink | undefined
  private lastQueued: QueuePosition | undefined
  private readonly ac = new AbortController()
  /** Resolves when the ask has fully ended (DB written, stream ended). */
  readonly finished: Promise<void>
  private resolveFinished!: () => void

  constructor(
    private readonly svc: ChatService,
    readonly userId: number,
    readonly conversationId: string,
    readonly accepted: ChatStreamEvents['accepted'],
    readonly plan: AskPlan,
    private readonly ticket: Ticket,
    private readonly reservation: Reservation,
  ) {
    this.requestId = accepted.requestId
    this.finished = new Promise((r) => {
      this.resolveFinished = r
    })
  }

  /** Queue position updates; sent once the stream is attached. */
  onPosition(p: QueuePosition): void {
    this.lastQueued = p
    if (this.sink && this.state === 'queued')
      this.sink.send('queued', p)
  }

  /** Starts streaming to `sink`: `accepted` first, then the rest. */
  attach(sink: ChatSink): void {
    this.sink = sink
    sink.send('accepted', this.accepted)
    if (this.state === 'queued' && this.lastQueued)
      sink.send('queued', this.lastQueued)
    void this.execute()
  }

  /** Stops the ask. Returns false if it had already ended. */
  stop(reason: StopReason): boolean {
    if (this.state === 'ended' || this.stopReason)
      return this.state !== 'ended'
    this.stopReason = reason
    if (this.state === 'queued')
      this.ticket.cancel(new AppError('BAD_REQUEST', 'Stopped.'))
    this.ac.abort(new AppError('BAD_REQUEST', 'Stopped.'))
    return true
  }

  private async execute(): Promise<void> {
    const t0 = this.svc.deps.now().getTime()
    const r: RunResult = { text: '', charsOut: 0, ttftMs: null, queueWaitMs: null, startedAt: null, finishReason: null, committed: undefined }
    let lease: Lease | undefined
    let ok = false
    try {
      try {
        lease = await this.ticket.lease
      }
      catch (err) {
        throw this.stopReason ? new Stopped() : err
      }
      if (this.stopReason)
        throw new Stopped()
      this.state = 'running'
      const startedAt = this.svc.deps.now()
      r.startedAt = startedAt
      r.queueWaitMs = lease.waitedMs
      this.sink?.send('started', {})
      await this.stream(r, startedAt.getTime())
      ok = true
    }
    catch (err) {
      r.error = err
    }
    finally {
      lease?.release({ sample: ok })
    }
    await this.finish(r, t0)
  }

  private async stream(r: RunResult, startedAtMs: number): Promise<void> {
    const { plan } = this
    const input: AskInput = { ...plan.input, signal: this.ac.signal }
    const idleMs = (plan.upstream.idle_timeout_seconds ?? 120) * 1000 + IDLE_MARGIN_MS
    const iterator = plan.provider.ask(input)[Symbol.asyncIterator]()
    // Each step waits for the provider, our stop, or the idle cut, whichever comes first. One small
    // promise per step (not Promise.race against long-lived promises, which keeps a reaction per
    // chunk alive for the whole answer).
    let cut: ((err: unknown) => void) | undefined
    let cutReason: unknown
    const cutWith = (err: unknown): void => {
      if (cutReason === undefined)
        cutReason = err
      cut?.(cutReason)
    }
    const abortListener = (): void => cutWith(new Stopped())
    this.ac.signal.addEventListener('abort', abortListener, { once: true })
    const idleTimer = setTimeout(() => cutWith(new ProviderError('UPSTREAM_TIMEOUT', 'The upstream stopped answering.')), idleMs)
    idleTimer.unref?.()
    const step = (): Promise<IteratorResult<ProviderEvent>> => new Promise((resolve, reject) => {
      if (cutReason !== undefined)
        return reject(cutReason)
      cut = reject
      iterator.next().then(resolve, reject)
    })
    try {
      if (this.ac.signal.aborted)
        throw new Stopped()
      while (true) {
        const next = await step()
        idleTimer.refresh()
        if (next.done)
          break
        this.onEvent(next.value, r, startedAtMs)
        if (next.value.type === 'done')
          break
      }
      if (!r.finishReason)
        r.finishReason = 'other'
    }
    catch (err) {
      // Abort the upstream call whatever made us leave (our stop, idle cut, provider error).
      if (!this.ac.signal.aborted)
        this.ac.abort(err)
      void iterator.return?.(undefined)?.catch(() => {})
      throw this.stopReason ? new Stopped() : err
    }
    finally {
      cut = undefined
      clearTimeout(idleTimer)
      this.ac.signal.removeEventListener('abort', abortListener)
    }
  }

  private onEvent(ev: ProviderEvent, r: RunResult, startedAtMs: number): void {
    const { deps } = this.svc
    switch (ev.type) {
      case 'text': {
        if (!ev.text)
          return
        r.text += ev.text
        r.charsOut += codePoints(ev.text)
        this.sink?.send('delta', { text: ev.text })
        if (r.ttftMs === null) {
          // After the text is on its way: the member's first token does not wait for the ledger.
          r.ttftMs = deps.now().getTime() - startedAtMs
          r.committed = deps.quotaGate().commit(this.reservation).catch(err => deps.logger.error({ err, requestId: this.requestId }, 'quota commit failed'))
        }
        deps.checkpointer.mark(this.accepted.assistantMessageId, this.plan.baseText + r.text)
        return
      }
      case 'title': {
        // Only a new conversation takes the upstream's title (a rename by the member is never overwritten).
        const title = ev.title.trim().slice(0, 200)
        if (!title || !this.plan.newConversation || r.titleSent)
          return
        r.title = title
        r.titleSent = true
        this.sink?.send('title', { title })
        return
      }
      case 'context':
        r.upstreamConversationId = ev.upstreamConversationId
        r.upstreamMessageId = ev.upstreamMessageId
        return
      case 'done':
        r.finishReason = ev.finishReason
        r.usage = ev.usage
    }
  }

  private async finish(r: RunResult, t0: number): Promise<void> {
    const { deps } = this.svc
    this.state = 'ended'
    const stopped = r.error instanceof Stopped || (this.stopReason !== undefined && !r.finishReason)
    const err = stopped ? undefined : r.error
    let status: 'done' | 'stopped' | 'error' | 'interrupted'
    let errorEvent: ChatStreamEvents['error'] | undefined
    if (stopped) {
      status = this.stopReason === 'shutdown' ? 'interrupted' : 'stopped'
      r.finishReason = 'aborted'
      if (this.stopReason === 'shutdown')
        errorEvent = { code: 'SERVICE_UNAVAILABLE', message: 'The server is restarting; the answer so far is kept.' }
    }
    else if (err) {
      status = 'error'
      errorEvent = toErrorEvent(err)
      if (errorEvent.code === 'UPSTREAM_ERROR' && !(err instanceof ProviderError))
        deps.logger.error({ err, requestId: this.requestId }, 'ask failed unexpectedly')
    }
    else {
      status = 'done'
    }

    // A title for a new conversation: the upstream's, else (ChatGPT web) gen_title, else the question's first words.
    if (this.plan.newConversation && !r.title && status === 'done')
      r.title = await this.genTitle(r)

    await deps.checkpointer.forget(this.accepted.assistantMessageId)
    const now = deps.now()
    try {
      await deps.repo.finalize({
        now,
        askId: this.requestId,
        conversationId: this.conversationId,
        messageId: this.accepted.assistantMessageId,
        content: this.plan.baseText + r.text,
        status,
        quota: r.committed ? 'committed' : 'refunded',
        finishReason: r.finishReason,
        errorCode: errorEvent?.code ?? null,
        upstreamMessageId: r.upstreamMessageId,
        upstreamConversationId: r.upstreamConversationId,
        title: this.plan.newConversation ? r.title : undefined,
        ask: {
          outcome: status,
          queueWaitMs: r.queueWaitMs ?? (r.startedAt ? null : now.getTime() - t0),
          ttftMs: r.ttftMs,
          durationMs: now.getTime() - t0,
          charsOut: r.charsOut,
          tokensIn: r.usage?.promptTokens,
          tokensOut: r.usage?.completionTokens,
          startedAt: r.startedAt,
        },
      })
    }
    catch (e) {
      // The conversation was deleted meanwhile, or the database is unwell: the member still gets the end of the stream.
      deps.logger.warn({ err: e, requestId: this.requestId }, 'ask: final write failed')
    }
    // Quota: committed at the first output; refunded when the ask ended without any.
    if (r.committed)
      await r.committed
    else
      await deps.quotaGate().refund(this.reservation).catch(e => deps.logger.error({ err: e, requestId: this.requestId }, 'quota refund failed'))

    if (r.title && this.plan.newConversation && !r.titleSent)
      this.sink?.send('title', { title: r.title })
    if (errorEvent)
      this.sink?.send('error', errorEvent)
    else
      this.sink?.send('done', { finishReason: (r.finishReason ?? 'other') as FinishReason, ...(r.usage ? { usage: cleanUsage(r.usage) } : {}) })
    this.sink?.end()
    this.svc.forgetRun(this)
    this.resolveFinished()
  }

  private async genTitle(r: RunResult): Promise<string> {
    const { provider } = this.plan
    const upstreamConversationId = r.upstreamConversationId
    if (provider.genTitle && upstreamConversationId && r.upstreamMessageId) {
      try {
        const signal = AbortSignal.timeout(GEN_TITLE_TIMEOUT_MS)
        const title = (await provider.genTitle(upstreamConversationId, r.upstreamMessageId, signal)).trim().slice(0, 200)
        if (title)
          return title
      }
      catch (err) {
        this.svc.deps.logger.info({ err, requestId: this.requestId }, 'gen_title failed; using the question\'s first words')
      }
    }
    return this.plan.fallbackTitle
  }
}

class Stopped extends Error {
  constructor() {
    super('stopped')
    this.name = 'Stopped'
  }
}

interface RunResult {
  text: string
  charsOut: number
  ttftMs: number | null
  queueWaitMs: number | null
  startedAt: Date | null
  finishReason: FinishReason | null
  usage?: ChatUsage
  title?: string
  titleSent?: boolean
  upstreamConversationId?: string
  upstreamMessageId?: string
  committed: Promise<void> | undefined
  error?: unknown
}

/** What an ask will send upstream, decided at admission. */
export interface AskPlan {
  action: ChatAction
  provider: Provider
  upstream: UpstreamConfig
  input: Omit<AskInput, 'signal'>
  /** `continue`: the text already in the answer row. */
  baseText: string
  newConversation: boolean
  fallbackTitle: string
}

function cleanUsage(u: ChatUsage): ChatUsage {
  const out: ChatUsage = {}
  for (const k of ['promptTokens', 'completionTokens', 'totalTokens'] as const) {
    if (Number.isInteger(u[k]))
      out[k] = u[k]
  }
  return out
}

function toErrorEvent(err: unknown): ChatStreamEvents['error'] {
  if (err instanceof ProviderError) {
    const e: ChatStreamEvents['error'] = { code: err.code, message: providerMessage(err.code) }
    if (err.extra.retryAfterSeconds !== undefined)
      e.retryAfterSeconds = err.extra.retryAfterSeconds
    return e
  }
  if (err instanceof AppError)
    return { code: err.code, message: err.message, ...(typeof err.details?.retryAfterSeconds === 'number' ? { retryAfterSeconds: err.details.retryAfterSeconds } : {}) }
  return { code: 'UPSTREAM_ERROR', message: providerMessage('UPSTREAM_ERROR') }
}

/** Member-facing messages: never an upstream body. */
function providerMessage(code: ProviderError['code']): string {
  switch (code) {
    case 'UPSTREAM_TIMEOUT': return 'The upstream took too long to answer.'
    case 'UPSTREAM_UNAUTHORIZED': return 'The shared account was refused by the upstream; the administrator has been told.'
    case 'UPSTREAM_RATE_LIMITED': return 'The upstream is rate-limiting us; try again in a little while.'
    case 'UPSTREAM_UNAVAILABLE': return 'The upstream cannot be reached right now.'
    default: return 'The upstream failed to answer.'
  }
}

/** The path from the root to `id`, oldest first. */
function pathTo(messages: Map<string, StoredMessage>, id: string | null): StoredMessage[] {
  const out: StoredMessage[] = []
  const seen = new Set<string>()
  let cur = id ? messages.get(id) : undefined
  while (cur && !seen.has(cur.id)) {
    seen.add(cur.id)
    out.push(cur)
    cur = cur.parentId ? messages.get(cur.parentId) : undefined
  }
  return out.reverse()
}

/** API upstreams: the newest turns of `path` that fit in `budget` characters, oldest first. */
export function boundedHistory(path: StoredMessage[], budget: number): ChatTurn[] {
  const turns: ChatTurn[] = []
  let used = 0
  for (let i = path.length - 1; i >= 0; i--) {
    const m = path[i]!
    if (!m.content || (m.role !== 'user' && m.role !== 'assistant'))
      continue
    used += m.content.length
    if (used > budget)
      break
    turns.push({ role: m.role, content: m.content })
  }
  turns.reverse()
  // Never begin with an answer whose question was cut off.
  while (turns[0]?.role === 'assistant')
    turns.shift()
  return turns
}

export interface QueueInfo {
  upstreamId: string
  queue: FairQueue
}

export class ChatService {
  private readonly queues = new Map<string, FairQueue>()
  private readonly runs = new Map<string, AskRun>()
  /** Conversations with an answer being written (one at a time per conversation). */
  private readonly busy = new Set<string>()
  private closing = false

  constructor(readonly deps: ChatServiceDeps) {}

  /** The queue of an upstream, created on first use and kept in step with its concurrency. */
  queueFor(upstream: UpstreamConfig): FairQueue {
    const cfg = this.deps.config()
    let q = this.queues.get(upstream.id)
    const concurrency = upstream.concurrency ?? 1
    if (!q) {
      q = new FairQueue({
        concurrency,
        maxDepth: cfg.queue_max_depth,
        maxWaitMs: cfg.queue_max_wait_seconds * 1000,
        coolDownUntil: () => this.deps.providers.get(upstream.id)?.health().coolDownUntil?.getTime(),
      })
      this.queues.set(upstream.id, q)
    }
    else if (q.stats().concurrency !== concurrency) {
      q.setConcurrency(concurrency)
    }
    return q
  }

  queueStats(upstreamId: string) {
    return this.queues.get(upstreamId)?.stats()
  }

  /**
   * Admits an ask and stores it. Throws AppError (answered as JSON) when it cannot be accepted.
   * The caller then `attach`es the returned run to a stream.
   */
  async prepare(userId: number, body: ChatBody): Promise<AskRun> {
    if (this.closing)
      throw new AppError('SERVICE_UNAVAILABLE', 'The server is restarting; try again in a moment.')
    const cfg = this.deps.config()
    const action: ChatAction = body.action ?? 'next'
    if (action === 'next') {
      if (!body.content.trim())
        throw new AppError('VALIDATION_FAILED', 'body.content: the question is empty')
      if (codePoints(body.content) > cfg.max_content_chars)
        throw new AppError('CONTENT_TOO_LONG', `A question may have at most ${cfg.max_content_chars} characters.`, { maxChars: cfg.max_content_chars })
    }
    const route = this.deps.providers.byModel(body.model)
    if (!route)
      throw new AppError('UNKNOWN_MODEL', `There is no model "${body.model}".`)

    let conv: StoredConversation | null = null
    if (body.conversationId) {
      conv = await this.deps.repo.findConversation(body.conversationId, userId)
      if (!conv)
        throw new AppError('NOT_FOUND', 'No such conversation.')
    }
    else if (action !== 'next') {
      throw new AppError('BAD_REQUEST', `"${action}" needs a conversationId.`)
    }
    if (conv && conv.upstreamId !== route.upstream.id && (route.upstream.type === 'chatgpt-web' || conv.upstreamConversationId))
      throw new AppError('BAD_REQUEST', 'This conversation lives on another upstream; start a new conversation for this model.')

    const requestId = randomUUID()
    const conversationId = conv?.id ?? randomUUID()
    const byId = new Map((conv?.messages ?? []).map(m => [m.id, m]))
    const latest = conv?.messages.at(-1)
    const planned = this.plan(action, body, byId, latest, conv, route.upstream.type === 'chatgpt-web')

    if (this.busy.has(conversationId))
      throw new AppError('CONFLICT', 'An answer is still being written in this conversation; wait for it or stop it.')
    this.busy.add(conversationId)
    let reservation: Reservation | undefined
    let ticket: Ticket | undefined
    try {
      let run: AskRun | undefined
      const userMessageId = planned.userMessage?.id ?? planned.questionId
      const assistantMessageId = planned.assistantMessage?.id ?? planned.reopenMessageId!
      const fallbackTitle = shortTitle(body.content)
      // A new conversation is stored with the question's first words as its title until a better one arrives.
      const accepted = { requestId, conversationId, userMessageId, assistantMessageId, ...(conv ? {} : { title: fallbackTitle }) }
      const plan: AskPlan = {
        action,
        provider: route.provider,
        upstream: route.upstream,
        input: { slug: route.slug, ...planned.input },
        baseText: planned.baseText,
        newConversation: !conv,
        fallbackTitle,
      }
      const charsIn = codePoints(planned.input.content ?? '') + (planned.input.history ?? []).reduce((n, t) => n + codePoints(t.content), 0)
      const queue = this.queueFor(route.upstream)
      // Reserve, enqueue and store in ONE transaction (synchronous, db/sql.ts): a full queue or a
      // failed insert undoes the reservation with it; `accepted` is sent only once it is committed.
      reservation = await this.deps.quotaGate().admit({ userId, model: body.model, askId: requestId, newConversation: !conv }, (res) => {
        ticket = queue.enqueue({
          id: requestId,
          member: userId,
          maxInFlight: res.maxInFlight,
          onPosition: p => run?.onPosition(p),
        })
        // Positions announced during enqueue (before `run` exists) are picked up below.
        this.deps.repo.acceptIn({
          now: this.deps.now(),
          askId: requestId,
          userId,
          model: body.model,
          upstreamId: route.upstream.id,
          charsIn,
          conversationId,
          newConversation: conv ? undefined : { id: conversationId, title: fallbackTitle },
          userMessage: planned.userMessage,
          assistantMessage: planned.assistantMessage,
          reopenMessageId: planned.reopenMessageId,
        })
      })
      if (!ticket)
        throw new Error('quota gate admitted without storing the ask')
      run = new AskRun(this, userId, conversationId, accepted, plan, ticket, reservation)
      const first = this.queues.get(route.upstream.id)?.positionOf(requestId)
      if (first)
        run.onPosition(first)
      this.runs.set(requestId, run)
      return run
    }
    catch (err) {
      this.busy.delete(conversationId)
      if (ticket && !ticket.cancel(err)) {
        // It had already been given a slot: give it back.
        void ticket.lease.then(l => l.release({ sample: false }), () => {})
      }
      if (reservation)
        await this.deps.quotaGate().refund(reservation).catch(e => this.deps.logger.error({ err: e }, 'quota refund failed'))
      throw err
    }
  }

  /** Decides parent, question and upstream context for an ask. */
  private plan(action: ChatAction, body: ChatBody, byId: Map<string, StoredMessage>, latest: StoredMessage | undefined, conv: StoredConversation | null, web: boolean) {
    const pick = (id: string | undefined, role: 'user' | 'assistant', fallback: StoredMessage | undefined): StoredMessage => {
      const m = id ? byId.get(id) : fallback
      if (!m)
        throw new AppError('NOT_FOUND', 'No such message in this conversation.')
      if (m.role !== role)
        throw new AppError('BAD_REQUEST', `parentMessageId must be ${role === 'user' ? 'a question' : 'an answer'} for this action.`)
      return m
    }
    const context = (before: StoredMessage[]) => {
      if (web) {
        const parent = [...before].reverse().find(m => m.role === 'assistant' && m.upstreamMessageId)
        return {
          upstreamConversationId: parent ? conv?.upstreamConversationId ?? null : null,
          upstreamParentMessageId: parent?.upstreamMessageId ?? null,
        }
      }
      return { history: boundedHistory(before, this.deps.config().history_max_chars) }
    }
    const latestAnswer = conv ? [...conv.messages].reverse().find(m => m.role === 'assistant') : undefined

    if (action === 'next') {
      const parent = body.parentMessageId ? byId.get(body.parentMessageId) : latest
      if (body.parentMessageId && !parent)
        throw new AppError('NOT_FOUND', 'No such message in this conversation.')
      const userId = randomUUID()
      const before = pathTo(byId, parent?.id ?? null)
      return {
        userMessage: { id: userId, parentId: parent?.id ?? null, content: body.content },
        assistantMessage: { id: randomUUID(), parentId: userId },
        questionId: userId,
        reopenMessageId: undefined as string | undefined,
        baseText: '',
        input: { content: body.content, action: 'next' as const, userMessageId: userId, ...context(before) },
      }
    }
    if (action === 'regenerate') {
      const fallback = latestAnswer?.parentId ? byId.get(latestAnswer.parentId) : undefined
      const question = pick(body.parentMessageId, 'user', fallback)
      const before = pathTo(byId, question.parentId)
      return {
        userMessage: undefined,
        assistantMessage: { id: randomUUID(), parentId: question.id },
        questionId: question.id,
        reopenMessageId: undefined as string | undefined,
        baseText: '',
        // ChatGPT web: a fresh upstream id for the re-asked question (ids must not repeat upstream).
        input: { content: question.content, action: 'next' as const, userMessageId: randomUUID(), ...context(before) },
      }
    }
    // continue
    const answer = pick(body.parentMessageId, 'assistant', latestAnswer)
    if (answer.finishReason !== 'length')
      throw new AppError('BAD_REQUEST', 'Only an answer cut off by the length limit can be continued.')
    const path = pathTo(byId, answer.id)
    const question = answer.parentId ? byId.get(answer.parentId) : undefined
    return {
      userMessage: undefined,
      assistantMessage: undefined,
      questionId: question?.id ?? answer.id,
      reopenMessageId: answer.id,
      baseText: answer.content,
      input: { content: '', action: 'continue' as const, ...context(path) },
    }
  }

  /**
   * Stops an ask of this user: true if it was waiting or running, false if it had already ended.
   * Anybody else's ask, or none, is NOT_FOUND.
   */
  async stop(userId: number, requestId: string): Promise<boolean> {
    const run = this.runs.get(requestId)
    if (run && run.userId === userId)
      return run.stop('stop')
    if (!run && await this.deps.repo.askExists(requestId, userId))
      return false
    throw new AppError('NOT_FOUND', 'No such ask.')
  }

  /** Stops whatever is being written in a conversation (before it is deleted); waits until it has ended. */
  /**
   * The upstreams changed (settings hot-reload): a removed upstream's waiting asks end with
   * UPSTREAM_UNAVAILABLE (its running ones finish); a new `concurrency` applies to waiting asks now.
   */
  upstreamsChanged(upstreams: UpstreamConfig[]): void {
    const byId = new Map(upstreams.map(u => [u.id, u]))
    for (const [id, q] of this.queues) {
      const u = byId.get(id)
      if (!u) {
        q.close(new AppError('UPSTREAM_UNAVAILABLE', 'The administrator removed this upstream; ask again with another model.'))
        this.queues.delete(id)
      }
      else if (q.stats().concurrency !== (u.concurrency ?? 1)) {
        q.setConcurrency(u.concurrency ?? 1)
      }
    }
  }

  async stopConversation(conversationId: string): Promise<void> {
    const runs = [...this.runs.values()].filter(r => r.conversationId === conversationId)
    for (const r of runs) r.stop('stop')
    await Promise.all(runs.map(r => r.finished))
  }

  forgetRun(run: AskRun): void {
    this.runs.delete(run.requestId)
    this.busy.delete(run.conversationId)
  }

  inFlight(): number {
    let n = 0
    for (const q of this.queues.values()) n += q.stats().running
    return n
  }

  /** Shutdown: waiting asks leave the queue, running ones are cut (kept as `interrupted`). */
  async shutdown(): Promise<void> {
    this.closing = true
    const runs = [...this.runs.values()]
    for (const r of runs) r.stop('shutdown')
    for (const q of this.queues.values()) q.close()
    await Promise.all(runs.map(r => r.finished))
    await this.deps.checkpointer.stop()
  }
}
