/**
 * The real QuotaGate: the ordered checks (limits.logic.ts `checkAsk`), then an atomic reservation
 * (quota.repository.ts), then exactly one of commit (first output) or refund (no output).
 *
 * Definition of "remaining" (the invariant the tests check): when the admin sets a count (totalAsks
 * or one model's count) to N, N is the new configured amount, with a fresh stamp. From then on
 *   remaining = N − (asks reserved under that stamp that are committed or still reserved)
 * because a reservation takes a unit under the stamp it saw, and a refund gives the unit back only
 * while the stamp is unchanged. An ask that was running when the admin set N never changes N.
 * Unlimited (-1) counts are never decremented.
 */
import type { AppError as AppErrorType } from '../../lib/errors.js'
import type { CheckFailure } from '../limits/limits.logic.js'
import type { LimitsService } from '../limits/limits.service.js'
import type { QuotaRepository } from './quota.repository.js'
import type { AdmitInput, QuotaGate, Reservation } from './quota.types.js'
import { AppError } from '../../lib/errors.js'
import { checkAsk, longestWindow } from '../limits/limits.logic.js'
import { defaultModelAsks } from '../limits/limits.service.js'
import { createKeyedMutex } from './keyed-mutex.js'

export interface QuotaGateDeps {
  limits: LimitsService
  ledger: QuotaRepository
  now: () => Date
  timezone: string
  /** True when the model key is configured. */
  knowsModel: (model: string) => boolean
  logger?: { warn: (obj: object, msg?: string) => void }
}

export function failureToError(f: CheckFailure, now: Date): AppErrorType {
  if (!f.nextAllowedAt)
    return new AppError(f.code, f.message)
  const details: Record<string, unknown> = { nextAllowedAt: f.nextAllowedAt.toISOString() }
  if (f.code === 'RATE_WINDOW_FULL')
    details.retryAfterSeconds = Math.max(1, Math.ceil((f.nextAllowedAt.getTime() - now.getTime()) / 1000))
  return new AppError(f.code, f.message, details)
}

export function createQuotaGate(deps: QuotaGateDeps): QuotaGate & { recover: () => Promise<{ refunded: number, orphans: number }> } {
  const { limits, ledger, timezone } = deps
  const repo = limits.repo
  const serial = createKeyedMutex<number>()

  async function admitOnce(input: AdmitInput): Promise<Reservation | 'changed'> {
    const { userId, model } = input
    let l = await limits.load(userId)
    let quota = l.quotas.find(q => q.model === model)
    if (!quota) {
      // A model without its own count takes the default (admins: unlimited), from now on stored.
      await repo.createQuotaIfMissing(userId, model, defaultModelAsks(l.role, l.defaults, model))
      l = await limits.load(userId)
      quota = l.quotas.find(q => q.model === model)!
    }
    const now = deps.now()
    const askLimits = limits.askLimits(l, model)
    const span = longestWindow(askLimits.limits.rateWindows, model)
    const windowAsks = span ? (await repo.windowAsks(userId, new Date(now.getTime() - span * 1000), model)).map(a => a.createdAt) : []
    const conversations = input.newConversation && askLimits.limits.maxConversations !== -1 ? await repo.countConversations(userId) : 0
    const failure = checkAsk(askLimits, { now, timezone, model, newConversation: input.newConversation, conversations, windowAsks })
    if (failure)
      throw failureToError(failure, now)
    const outcome = await ledger.reserve({
      askId: input.askId,
      userId,
      model,
      now,
      totalGen: l.row.totalAsksGen,
      totalLimited: l.row.totalAsks !== -1,
      modelGen: quota.gen,
      modelLimited: quota.remaining !== -1,
    })
    if (outcome === 'duplicate')
      throw new AppError('CONFLICT', 'This ask was admitted already.')
    if (outcome === 'changed')
      return 'changed'
    return { askId: input.askId, userId, model, maxInFlight: l.row.maxInFlight }
  }

  return {
    async admit(input) {
      if (!deps.knowsModel(input.model))
        throw new AppError('UNKNOWN_MODEL', `There is no model "${input.model}".`)
      return serial(input.userId, async () => {
        // An admin edit between reading the counts and taking a unit makes the take fail; read again.
        for (let attempt = 0; attempt < 5; attempt++) {
          const r = await admitOnce(input)
          if (r !== 'changed')
            return r
        }
        throw new AppError('SERVICE_UNAVAILABLE', 'Your limits are being changed right now; try again.')
      })
    },

    async commit(r) {
      await ledger.commit(r.askId)
    },

    async refund(r) {
      await ledger.refund(r.askId)
    },

    /**
     * At start-up (one process: nothing is running yet), reservations left open by a previous run
     * had no output (else they would be committed): refund them.
     */
    async recover() {
      let refunded = 0
      for (const h of await ledger.openHolds()) {
        if (await ledger.refund(h.askId))
          refunded++
      }
      const orphans = await ledger.closeOrphans()
      if (refunded || orphans)
        deps.logger?.warn({ refunded, orphans }, 'open quota reservations from a previous run were refunded')
      return { refunded, orphans }
    },
  }
}
