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
import type { AsksRepository } from './asks.repository.js'
import type { Checkpointer } from './checkpointer.js'
import type { StopReason } from './outcome.js'
import { codePoints } from '../../lib/text.js'
import { ProviderError } from '../providers/types.js'
import { cleanUsage, outcomeOf, Stopped } from './outcome.js'
import { readProvider } from './provider-stream.js'
import { cleanTitle, titleAfterAnswer } from './titles.js'

export type AskState = 'queued' | 'running' | 'ended'

const NEXT: Record<AskState, readonly AskState[]> = { queued: ['running', 'ended'], running: ['ended'], ended: [] }

/** What an ask will send upstream, decided at admission. */
export interface AskPlan {
  provider: Provider
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
}

export interface AskRunDeps {
  repo: Pick<AsksRepository, 'markRunning' | 'finalize'>
  quota: AskQuota
  checkpointer: Pick<Checkpointer, 'mark' | 'forget'>
  logger: { info: (obj: object, msg?: string) => void, warn: (obj: object, msg?: string) => void, error: (obj: object, msg?: string) => void }
  now: () => Date
  graceSeconds: () => number
}

interface Progress {
  text: string
  charsOut: number
  ttftMs: number | null
  queueWaitMs: number | null
  startedAt: Date | null
  finishReason: FinishReason | null
  usage?: ChatUsage
  title?: string
  upstreamConversationId?: string
  upstreamMessageId?: string
  committed?: Promise<unknown>
}

export class AskRun {
  readonly requestId: string
  private current: AskState = 'queued'
  private stopReason: StopReason | undefined
  private ticket: Ticket | undefined
  private readonly ac = new AbortController()
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

  private async execute(ticket: Ticket): Promise<void> {
    const p: Progress = { text: '', charsOut: 0, ttftMs: null, queueWaitMs: null, startedAt: null, finishReason: null }
    let lease: Lease | undefined
    let failure: unknown
    try {
      lease = await ticket.lease.catch((err) => {
        throw this.stopReason ? new Stopped() : err
      })
      if (this.stopReason)
        throw new Stopped()
      this.moveTo('running')
      p.startedAt = this.deps.now()
      p.queueWaitMs = lease.waitedMs
      void this.deps.repo.markRunning(this.requestId, p.startedAt).catch(err => this.deps.logger.warn({ err, requestId: this.requestId }, 'ask: marking it running failed'))
      this.channel.publish('started', {})
      const startedAtMs = p.startedAt.getTime()
      await readProvider({
        provider: this.plan.provider,
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
      lease?.release({ sample: failure === undefined })
    }
    await this.finish(p, failure)
  }

  private onEvent(ev: ProviderEvent, p: Progress, startedAtMs: number): void {
    switch (ev.type) {
      case 'text': {
        if (!ev.text)
          return
        p.text += ev.text
        p.charsOut += codePoints(ev.text)
        this.channel.publish('delta', { text: ev.text })
        if (p.ttftMs === null) {
          // After the text is on its way: the member's first token does not wait for the ledger.
          p.ttftMs = this.deps.now().getTime() - startedAtMs
          p.committed = this.deps.quota.commit(this.requestId).catch(err => this.deps.logger.error({ err, requestId: this.requestId }, 'quota commit failed'))
        }
        this.deps.checkpointer.mark(this.accepted.assistantMessageId, this.plan.baseText + p.text)
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
        p.upstreamConversationId = ev.upstreamConversationId
        p.upstreamMessageId = ev.upstreamMessageId
        return
      case 'done':
        p.finishReason = ev.finishReason
        p.usage = ev.usage
    }
  }

  private async finish(p: Progress, failure: unknown): Promise<void> {
    const { deps } = this
    this.moveTo('ended')
    const outcome = outcomeOf(this.stopReason, failure === undefined && p.finishReason !== null, failure, deps.graceSeconds())
    if (outcome.status !== 'done')
      p.finishReason = outcome.status === 'error' ? p.finishReason : 'aborted'
    if (outcome.error?.code === 'UPSTREAM_ERROR' && !(failure instanceof ProviderError))
      deps.logger.error({ err: failure, requestId: this.requestId }, 'ask failed unexpectedly')

    let titleLate = false
    if (this.plan.newConversation && !p.title && outcome.status === 'done') {
      p.title = await titleAfterAnswer(this.plan.provider, { conversationId: p.upstreamConversationId, messageId: p.upstreamMessageId }, this.plan.fallbackTitle, deps.logger)
      titleLate = true
    }

    await deps.checkpointer.forget(this.accepted.assistantMessageId)
    const now = deps.now()
    try {
      await deps.repo.finalize({
        now,
        askId: this.requestId,
        conversationId: this.conversationId,
        messageId: this.accepted.assistantMessageId,
        content: this.plan.baseText + p.text,
        status: outcome.status,
        quota: p.committed ? 'committed' : 'refunded',
        finishReason: p.finishReason,
        errorCode: outcome.error?.code ?? null,
        upstreamMessageId: p.upstreamMessageId,
        upstreamConversationId: p.upstreamConversationId,
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
    if (p.committed)
      await p.committed
    else
      await deps.quota.refund(this.requestId).catch(e => deps.logger.error({ err: e, requestId: this.requestId }, 'quota refund failed'))

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
