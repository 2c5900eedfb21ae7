import type { UpstreamConfig } from '../../config/schema.js'
/**
 * One accepted ask, from its place in the queue to its stored end: a small state machine
 * (queued → running → ended; queued → ended), guarded so that every ask ends exactly once —
 * slot freed, quota committed (first output) or refunded (none), answer and ask log written, the
 * final event published. It publishes to its channel whoever listens (nobody, one tab, several)
 * and reports its end through `onEnd`. See docs/architecture.md, "One ask's path".
 */
import type { AcceptedEvent, ChatUsage } from '../../contracts/chat.js'
import type { AskInput, FinishReason, Provider, ProviderEvent } from '../providers/types.js'
import type { Lease, QueuePosition, Ticket } from '../queue/fair-queue.js'
import type { AskChannel } from '../streams/channel.js'
import type { Pool } from '../upstreams/pool.js'
import type { AsksRepository } from './asks.repository.js'
import type { Checkpointer } from './checkpointer.js'
import type { StopReason } from './outcome.js'
import { codePoints } from '../../lib/text.js'
import { ProviderError } from '../providers/types.js'
import { cleanUsage, outcomeOf, Stopped } from './outcome.js'
import { readProvider } from './provider-stream.js'
import { cleanTitle, titleAfterAnswer } from './titles.js'

export type AskState = 'queued' | 'running' | 'ended'

/** running → queued: the upstream refused before any output (a rate limit): back in line, maybe for another account. */
const NEXT: Record<AskState, readonly AskState[]> = { queued: ['running', 'ended'], running: ['queued', 'ended'], ended: [] }

/** How many times an ask that got no output may go back in line (rate limits, a refused account). */
const MAX_ATTEMPTS = 6

/** What an ask will send upstream, decided at admission. */
export interface AskPlan {
  /** The upstream's pool: the account an ask runs on is chosen when it gets its slot. */
  pool: Pool
  /** The account the ask must run on (a ChatGPT web conversation lives on one account). */
  pin?: string
  /** The model key (caps and cool-downs are per model). */
  model: string
  upstream: UpstreamConfig
  input: Omit<AskInput, 'signal'>
  /** `continue`: the text already in the answer row. */
  baseText: string
  newConversation: boolean
  /** The question's first words (a new conversation's title until a better one comes). */
  fallbackTitle: string
}

export interface AskQuota {
  commit: (askId: string) => Promise<unknown>
  refund: (askId: string) => Promise<unknown>
  /** Our own shutdown cut it after its first output: not the member's to pay (issue #15 §4). */
  refundCommitted: (askId: string) => Promise<unknown>
}

export interface AskRunDeps {
  repo: Pick<AsksRepository, 'markRunning' | 'markContext' | 'finalize'>
  quota: AskQuota
  checkpointer: Pick<Checkpointer, 'append' | 'take'>
  logger: { info: (obj: object, msg?: string) => void, warn: (obj: object, msg?: string) => void, error: (obj: object, msg?: string) => void }
  now: () => Date
  graceSeconds: () => number
}

/** The run's own account of the answer; its text lives once, in the channel (the replay). */
interface Progress {
  charsOut: number
  ttftMs: number | null
  queueWaitMs: number | null
  startedAt: Date | null
  finishReason: FinishReason | null
  usage?: ChatUsage
  title?: string
  upstreamConversationId?: string
  upstreamMessageId?: string
  /** The account of the pool it ran on (last attempt). */
  accountId?: string
  committed?: Promise<unknown>
}

export class AskRun {
  readonly requestId: string
  private current: AskState = 'queued'
  private stopReason: StopReason | undefined
  private ticket: Ticket | undefined
  /** Aborts the current attempt's upstream call (a fresh one per attempt). */
  private ac = new AbortController()
  private readonly t0: number
  /** Resolves when the ask has fully ended (stored, final event published). */
  readonly finished: Promise<void>
  private resolveFinished!: () => void

  constructor(
    private readonly deps: AskRunDeps,
    readonly userId: number,
    readonly accepted: AcceptedEvent,
    readonly plan: AskPlan,
    readonly channel: AskChannel,
    private readonly onEnd: (run: AskRun) => void,
    /** Back in line after a refusal with no output (the same place rules as at admission). */
    private readonly requeue: () => Ticket,
  ) {
    this.requestId = accepted.requestId
    this.t0 = deps.now().getTime()
    this.finished = new Promise((r) => {
      this.resolveFinished = r
    })
    if (plan.baseText)
      channel.setBase(plan.baseText)
    channel.publish('accepted', accepted)
  }

  get state(): AskState {
    return this.current
  }

  get conversationId(): string {
    return this.accepted.conversationId
  }

  private moveTo(next: AskState): void {
    if (!NEXT[this.current].includes(next))
      throw new Error(`ask ${this.requestId}: ${this.current} → ${next} is not a transition`)
    this.current = next
  }

  /** Queue position updates, while it waits. */
  onPosition(p: QueuePosition): void {
    if (this.current === 'queued')
      this.channel.publish('queued', p)
  }

  /** Runs the ask once its ticket grants a slot. Called once, right after admission. */
  start(ticket: Ticket): void {
    this.ticket = ticket
    void this.execute(ticket)
  }

  /** Stops the ask (leaves the queue, or aborts the upstream). False if it had already ended. */
  stop(reason: StopReason): boolean {
    if (this.current === 'ended')
      return false
    if (this.stopReason)
      return true
    this.stopReason = reason
    this.ticket?.cancel(new Stopped())
    this.ac.abort(new Stopped())
    return true
  }

  private async execute(first: Ticket): Promise<void> {
    const p: Progress = { charsOut: 0, ttftMs: null, queueWaitMs: null, startedAt: null, finishReason: null }
    let ticket = first
    let failure: unknown
    let provider: Provider | undefined
    for (let attempt = 1; ; attempt++) {
      let lease: Lease | undefined
      failure = undefined
      try {
        // Awaited directly (no `.catch` in between), and the token check below only when there is a
        // keeper: an ask that gets its slot at once reaches the upstream request before the route
        // goes on to open the member's stream, so that work overlaps the upstream's first byte.
        try {
          lease = await ticket.lease
        }
        catch (err) {
          throw this.stopReason ? new Stopped() : err
        }
        if (this.stopReason)
          throw new Stopped()
        if (this.ac.signal.aborted)
          this.ac = new AbortController()
        const account = this.plan.pool.account(lease.account) ?? this.plan.pool.accounts[0]!
        provider = account.provider
        this.moveTo('running')
        p.startedAt ??= this.deps.now()
        p.queueWaitMs = (p.queueWaitMs ?? 0) + lease.waitedMs
        p.accountId = account.id
        void this.deps.repo.markRunning(this.requestId, p.startedAt, account.id).catch(err => this.deps.logger.warn({ err, requestId: this.requestId }, 'ask: marking it running failed'))
        this.channel.publish('started', {})
        // An access token about to expire is exchanged first (one exchange for every ask waiting on it).
        if (account.keeper)
          await account.keeper.ready()
        const startedAtMs = this.deps.now().getTime()
        await readProvider({
          provider,
          input: this.plan.input,
          controller: this.ac,
          idleTimeoutSeconds: this.plan.upstream.idle_timeout_seconds ?? 120,
          onEvent: ev => this.onEvent(ev, p, startedAtMs),
        })
        p.finishReason ??= 'other'
      }
      catch (err) {
        failure = this.stopReason ? new Stopped() : err
      }
      finally {
        const limited = failure instanceof ProviderError && failure.code === 'UPSTREAM_RATE_LIMITED'
        lease?.release({ sample: failure === undefined, produced: p.charsOut > 0, ...(limited ? { rateLimited: { retryAfterSeconds: (failure as ProviderError).extra.retryAfterSeconds } } : {}) })
      }
      if (!(await this.mayRetry(failure, p, attempt, lease?.account)))
        break
      // Nothing was answered yet: back in line (another account of the pool, or this one once it rested).
      this.deps.logger.info({ requestId: this.requestId, code: (failure as ProviderError).code, attempt }, 'ask: upstream refused before any output; back in line')
      this.moveTo('queued')
      // The stop button cancels `this.ticket`: it must be the place the ask holds now.
      this.ticket = ticket = this.requeue()
    }
    await this.finish(p, failure, provider)
  }

  /** A refusal before any output goes back in line: a rate limit always, a refused account when another may take it. */
  private async mayRetry(failure: unknown, p: Progress, attempt: number, accountId: string | undefined): Promise<boolean> {
    if (!(failure instanceof ProviderError) || p.charsOut > 0 || this.stopReason || attempt >= MAX_ATTEMPTS)
      return false
    if (failure.code === 'UPSTREAM_RATE_LIMITED')
      return true
    // A refused access token with a session token: exchange it at once, then try again.
    const keeper = this.plan.pool.account(accountId)?.keeper
    if (failure.code === 'UPSTREAM_UNAUTHORIZED' && keeper?.canRefresh && await keeper.refresh())
      return true
    // A refused credential: another sound account of the pool may answer instead.
    return failure.code === 'UPSTREAM_UNAUTHORIZED' && !this.plan.pin && this.plan.pool.hasSound()
  }

  private onEvent(ev: ProviderEvent, p: Progress, startedAtMs: number): void {
    switch (ev.type) {
      case 'text': {
        if (!ev.text)
          return
        p.charsOut += codePoints(ev.text)
        this.channel.publish('delta', { text: ev.text })
        if (p.ttftMs === null) {
          // After the text is on its way: the member's first token does not wait for the ledger.
          p.ttftMs = this.deps.now().getTime() - startedAtMs
          p.committed = this.deps.quota.commit(this.requestId).catch(err => this.deps.logger.error({ err, requestId: this.requestId }, 'quota commit failed'))
        }
        this.deps.checkpointer.append(this.accepted.assistantMessageId, ev.text)
        return
      }
      case 'title': {
        // Only a new conversation takes the upstream's title (a rename by the member is never overwritten).
        const title = cleanTitle(ev.title)
        if (!title || !this.plan.newConversation || p.title)
          return
        p.title = title
        this.channel.publish('title', { title })
        return
      }
      case 'context':
        if (p.upstreamConversationId === ev.upstreamConversationId && p.upstreamMessageId === ev.upstreamMessageId)
          return
        p.upstreamConversationId = ev.upstreamConversationId
        p.upstreamMessageId = ev.upstreamMessageId
        // Stored at once, so an answer cut by a crash can be read back from the upstream after the restart (recovery.ts).
        void this.deps.repo.markContext({ conversationId: this.conversationId, messageId: this.accepted.assistantMessageId, upstreamConversationId: ev.upstreamConversationId, upstreamMessageId: ev.upstreamMessageId, accountId: p.accountId })
          .catch(err => this.deps.logger.warn({ err, requestId: this.requestId }, 'ask: storing the upstream ids failed'))
        return
      case 'done':
        p.finishReason = ev.finishReason
        p.usage = ev.usage
    }
  }

  private async finish(p: Progress, failure: unknown, provider: Provider | undefined): Promise<void> {
    const { deps } = this
    this.moveTo('ended')
    const outcome = outcomeOf(this.stopReason, failure === undefined && p.finishReason !== null, failure, deps.graceSeconds())
    if (outcome.status !== 'done')
      p.finishReason = outcome.status === 'error' ? p.finishReason : 'aborted'
    if (outcome.error?.code === 'UPSTREAM_ERROR' && !(failure instanceof ProviderError))
      deps.logger.error({ err: failure, requestId: this.requestId }, 'ask failed unexpectedly')

    let titleLate = false
    if (this.plan.newConversation && !p.title && outcome.status === 'done' && provider) {
      p.title = await titleAfterAnswer(provider, { conversationId: p.upstreamConversationId, messageId: p.upstreamMessageId }, this.plan.fallbackTitle, deps.logger)
      titleLate = true
    }

    const unsaved = await deps.checkpointer.take(this.accepted.assistantMessageId)
    const now = deps.now()
    try {
      await deps.repo.finalize({
        now,
        askId: this.requestId,
        conversationId: this.conversationId,
        messageId: this.accepted.assistantMessageId,
        unsaved,
        status: outcome.status,
        quota: p.committed ? 'committed' : 'refunded',
        finishReason: p.finishReason,
        errorCode: outcome.error?.code ?? null,
        upstreamMessageId: p.upstreamMessageId,
        upstreamConversationId: p.upstreamConversationId,
        // A ChatGPT web conversation stays on the account that holds it upstream.
        accountId: p.upstreamConversationId ? p.accountId : undefined,
        askAccountId: p.accountId,
        title: this.plan.newConversation ? p.title : undefined,
        ask: {
          outcome: outcome.status,
          queueWaitMs: p.queueWaitMs ?? (p.startedAt ? null : now.getTime() - this.t0),
          ttftMs: p.ttftMs,
          durationMs: now.getTime() - this.t0,
          charsOut: p.charsOut,
          tokensIn: p.usage?.promptTokens,
          tokensOut: p.usage?.completionTokens,
          startedAt: p.startedAt,
        },
      })
    }
    catch (e) {
      // The conversation was deleted meanwhile, or the database is unwell: listeners still get the end.
      deps.logger.warn({ err: e, requestId: this.requestId }, 'ask: final write failed')
    }
    // Quota: committed at the first output; refunded when the ask ended without any.
    if (p.committed) {
      await p.committed
      if (this.stopReason === 'shutdown' && outcome.status === 'interrupted')
        await deps.quota.refundCommitted(this.requestId).catch(e => deps.logger.error({ err: e, requestId: this.requestId }, 'quota refund failed'))
    }
    else {
      await deps.quota.refund(this.requestId).catch(e => deps.logger.error({ err: e, requestId: this.requestId }, 'quota refund failed'))
    }

    if (titleLate && p.title)
      this.channel.publish('title', { title: p.title })
    if (outcome.error)
      this.channel.publish('error', outcome.error)
    else
      this.channel.publish('done', { finishReason: p.finishReason ?? 'other', ...(p.usage ? { usage: cleanUsage(p.usage) } : {}) })
    this.onEnd(this)
    this.resolveFinished()
  }
}
