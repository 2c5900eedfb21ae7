/**
 * Admission: the first steps of an ask (docs/architecture.md, "One ask's path").
 *   validate → plan (planner.ts) → ONE transaction: quota reserve + a place in the queue + the
 *   question, the empty answer and the Ask row → after the commit: join the queue, start the run.
 * Anything that refuses the ask throws an AppError before anything is stored (the route answers it
 * as JSON); once this returns, the ask lives on its own until it ends, whoever listens.
 */
import type { ChatBody } from '../../contracts/chat.js'
import type { Sql, WriteTx } from '../../db/sql.js'
import type { EnqueueRequest, Place, QueuePosition, Ticket } from '../queue/fair-queue.js'
import type { QuotaGate, Reservation } from '../quotas/quota.types.js'
import type { ModelRoute, Upstreams } from '../upstreams/upstreams.service.js'
import type { AskPlan, AskRunDeps } from './ask-run.js'
import type { AsksRepository } from './asks.repository.js'
import type { RunRegistry } from './run-registry.js'
import { randomUUID } from 'node:crypto'
import { AppError } from '../../lib/errors.js'
import { codePoints } from '../../lib/text.js'
import { shortTitle } from '../providers/shared/title.js'
import { AskChannel } from '../streams/channel.js'
import { AskRun } from './ask-run.js'
import { carryTurns, planAsk } from './planner.js'

export interface AdmissionConfig {
  max_content_chars: number
  history_max_chars: number
}

export interface AdmissionDeps {
  sql: Pick<Sql, 'write'>
  repo: Pick<AsksRepository, 'findConversation' | 'acceptIn'>
  quota: QuotaGate
  upstreams: Pick<Upstreams, 'route' | 'shareOf'>
  registry: RunRegistry
  runDeps: AskRunDeps
  config: () => AdmissionConfig
  now: () => Date
}

export type Admission = ReturnType<typeof createAdmission>

export function createAdmission(deps: AdmissionDeps) {
  const { registry } = deps

  /** Reserve, claim a queue place and store, in one transaction; retried when limits were missing or changed. */
  async function reserveAndStore(userId: number, store: Parameters<AsksRepository['acceptIn']>[1], model: string, newConversation: boolean, pool: ModelRoute['pool']): Promise<{ reservation: Reservation, place: Place }> {
    let place: Place | undefined
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        const r = await deps.sql.write((tx) => {
          const used = shareUsed(tx, pool, model, userId)
          if (used)
            return used
          const res = deps.quota.reserveIn(tx, { userId, model, askId: store.askId, newConversation })
          if (typeof res === 'string' || res instanceof AppError)
            return res
          // QUEUE_FULL throws: the block is rolled back, the reservation with it.
          place = pool.hold()
          deps.repo.acceptIn(tx, store)
          return res
        })
        if (r instanceof AppError)
          throw r
        if (r === 'no-limits')
          await deps.quota.loadLimits(userId)
        else if (r !== 'changed')
          return { reservation: r, place: place! }
      }
      throw new AppError('SERVICE_UNAVAILABLE', 'Your limits are being changed right now; try again.')
    }
    catch (err) {
      place?.release()
      throw err
    }
  }

  /** CAP_SHARE_USED when the group's cap of `model` is split and the member has used their part. */
  function shareUsed(tx: WriteTx, pool: ModelRoute['pool'], model: string, userId: number): AppError | undefined {
    const share = deps.upstreams.shareOf(tx, pool, model, userId)
    if (!share || share.remaining > 0)
      return undefined
    const fallback = pool.upstream.models?.find(m => m.key === model)?.fallback
    return new AppError('CAP_SHARE_USED', `You have used your part (${share.of}) of what the group has left of this model until its cap resets${fallback ? '; the fallback model is still open' : ''}.`, {
      share: { of: share.of, members: share.members },
      ...(share.resetsAt !== undefined ? { nextAllowedAt: new Date(share.resetsAt).toISOString(), retryAfterSeconds: Math.max(1, Math.ceil((share.resetsAt - deps.now().getTime()) / 1000)) } : {}),
      ...(fallback ? { fallback } : {}),
    })
  }

  return {
    /** Admits and stores an ask, and starts it. Throws AppError when it cannot be accepted. */
    async admit(userId: number, body: ChatBody): Promise<AskRun> {
      if (registry.isClosing)
        throw new AppError('SERVICE_UNAVAILABLE', 'The server is restarting; try again in a moment.')
      const cfg = deps.config()
      const action = body.action ?? 'next'
      if (action === 'next') {
        if (!body.content.trim())
          throw new AppError('VALIDATION_FAILED', 'body.content: the question is empty')
        if (codePoints(body.content) > cfg.max_content_chars)
          throw new AppError('CONTENT_TOO_LONG', `A question may have at most ${cfg.max_content_chars} characters.`, { maxChars: cfg.max_content_chars })
      }
      const route = deps.upstreams.route(body.model)
      if (!route)
        throw new AppError('UNKNOWN_MODEL', `There is no model "${body.model}".`)

      const conv = body.conversationId ? await deps.repo.findConversation(body.conversationId, userId) : null
      if (body.conversationId && !conv)
        throw new AppError('NOT_FOUND', 'No such conversation.')
      if (body.continueFrom && (body.conversationId || action !== 'next'))
        throw new AppError('BAD_REQUEST', 'continueFrom starts a new conversation: send it without conversationId, with a new question.')
      const earlier = body.continueFrom ? await deps.repo.findConversation(body.continueFrom, userId) : null
      if (body.continueFrom && !earlier)
        throw new AppError('NOT_FOUND', 'No such conversation to continue from.')
      const carried = earlier ? carryTurns(earlier) : undefined
      if (!conv && action !== 'next')
        throw new AppError('BAD_REQUEST', `"${action}" needs a conversationId.`)
      const web = route.upstream.type === 'chatgpt-web'
      if (conv && conv.upstreamId !== route.upstream.id && (web || conv.upstreamConversationId))
        throw new AppError('BAD_REQUEST', 'This conversation lives on another upstream; start a new conversation for this model.')

      // A ChatGPT web conversation lives on the account that holds it upstream.
      const pin = web && conv?.upstreamConversationId ? conv.accountId ?? undefined : undefined
      const holder = pin ? route.pool.account(pin) : undefined
      const down = !holder ? 'removed' : holder.config.enabled === false ? 'disabled' : holder.refused && route.pool.hasSound(holder.id) ? 'unauthorized' : undefined
      if (pin && down)
        throw new AppError('ACCOUNT_UNAVAILABLE', 'The shared account that holds this conversation is not available right now; start a new conversation to go on with another account.', { reason: down })

      const planned = planAsk({ action, content: body.content, parentMessageId: body.parentMessageId, conversation: conv, carried, upstreamKeepsContext: web, historyMaxChars: cfg.history_max_chars })
      const requestId = randomUUID()
      const conversationId = conv?.id ?? randomUUID()
      const fallbackTitle = earlier?.title ?? shortTitle(body.content)
      const charsIn = codePoints(planned.input.content) + (planned.input.history ?? []).reduce((n, t) => n + codePoints(t.content), 0)

      registry.claimConversation(conversationId)
      let admitted: { reservation: Reservation, place: Place }
      try {
        admitted = await reserveAndStore(userId, {
          now: deps.now(),
          askId: requestId,
          userId,
          model: body.model,
          upstreamId: route.upstream.id,
          charsIn,
          conversationId,
          newConversation: conv ? undefined : { id: conversationId, title: fallbackTitle },
          carried,
          userMessage: planned.userMessage,
          assistantMessage: planned.assistantMessage,
          reopenMessageId: planned.reopenMessageId,
          messageId: planned.answerId,
        }, body.model, !conv, route.pool)
      }
      catch (err) {
        registry.releaseConversation(conversationId)
        throw err
      }

      // Committed: from here on the ask exists, and it ends through its run whatever happens.
      const plan: AskPlan = {
        pool: route.pool,
        pin,
        model: body.model,
        upstream: route.upstream,
        input: { slug: route.slug, ...planned.input },
        baseText: planned.baseText,
        newConversation: !conv,
        fallbackTitle,
      }
      // A new conversation is stored with the question's first words as its title until a better one arrives.
      const accepted = { requestId, conversationId, userMessageId: planned.questionId, assistantMessageId: planned.answerId, ...(conv ? {} : { title: fallbackTitle }) }
      const channel = new AskChannel({ onListeners: n => registry.listenersChanged(requestId, n) })
      let onPosition = (_p: QueuePosition): void => {}
      const waiting: EnqueueRequest = { id: requestId, member: userId, maxInFlight: admitted.reservation.maxInFlight, needs: { model: body.model, pin }, onPosition: p => onPosition(p) }
      const run = new AskRun(deps.runDeps, userId, accepted, plan, channel, r => registry.retire(r), () => ticketOf(() => route.pool.queue.enqueue(waiting)))
      onPosition = p => run.onPosition(p)
      registry.add(run)
      run.start(ticketOf(() => admitted.place.enqueue(waiting)))
      return run
    },
  }
}

/** A ticket, or — when the queue closed meanwhile (shutdown, upstream removed) — one that fails with that error. */
function ticketOf(enqueue: () => Ticket): Ticket {
  try {
    return enqueue()
  }
  catch (err) {
    const lease = Promise.reject(err)
    lease.catch(() => {})
    return { id: '', lease, cancel: () => false }
  }
}
