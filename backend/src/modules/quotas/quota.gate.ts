import type { WriteTx } from '../../db/sql.js'
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
import type { LimitsService, LoadedLimits } from '../limits/limits.service.js'
import type { QuotaRepository } from './quota.repository.js'
import type { AdmitInput, QuotaGate, Reservation, ReserveRetry } from './quota.types.js'
import { AppError } from '../../lib/errors.js'
import { checkAsk, longestWindow } from '../limits/limits.logic.js'
import { DEFAULTS_SETTING_KEY } from '../limits/limits.repository.js'
import { defaultModelAsks, defaultsFromSetting } from '../limits/limits.service.js'

export interface QuotaGateDeps {
  limits: LimitsService
  ledger: QuotaRepository
  now: () => Date
  timezone: string
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
  const repo = limits.repo.sync

  /**
   * Reads the member's limits, runs the ordered checks and reserves, all in ONE synchronous
   * transaction (db/sql.ts): no other request, admin edit or reservation can land in between, so
   * "20 parallel asks with 1 unit left → exactly 1 admitted" holds by construction, without a
   * per-member lock. The stamps still guard refunds against admin edits made during the ask.
   */
  function reserveIn(tx: WriteTx, input: AdmitInput): Reservation | ReserveRetry | AppErrorType {
    const { userId, model } = input
    const user = repo.findUser(userId)
    if (!user)
      return new AppError('NOT_FOUND', 'No such user.')
    if (!user.limits)
      return 'no-limits'
    const defaults = defaultsFromSetting(repo.readSetting(DEFAULTS_SETTING_KEY))
    let quotas = repo.modelQuotas(userId)
    let quota = quotas.find(q => q.model === model)
    if (!quota) {
      // A model without its own count takes the default (admins: unlimited), from now on stored.
      repo.createQuotaIfMissing(userId, model, defaultModelAsks(user.role, defaults, model))
      quotas = repo.modelQuotas(userId)
      quota = quotas.find(q => q.model === model)!
    }
    const l: LoadedLimits = { userId, role: user.role, userEnabled: user.enabled, row: user.limits, quotas, defaults }
    const now = deps.now()
    const askLimits = limits.askLimits(l, model)
    const span = longestWindow(askLimits.limits.rateWindows, model)
    const windowAsks = span ? repo.windowAsks(userId, new Date(now.getTime() - span * 1000), model) : []
    const conversations = input.newConversation && askLimits.limits.maxConversations !== -1 ? repo.countConversations(userId) : 0
    const failure = checkAsk(askLimits, { now, timezone, model, newConversation: input.newConversation, conversations, windowAsks })
    // Returned, not thrown: the stored default count (above) is kept either way.
    if (failure)
      return failureToError(failure, now)
    const outcome = ledger.reserveIn(tx, {
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
      return new AppError('CONFLICT', 'This ask was admitted already.')
    if (outcome === 'changed')
      return 'changed'
    return { askId: input.askId, userId, model, maxInFlight: l.row.maxInFlight }
  }

  return {
    reserveIn,

    async loadLimits(userId) {
      await limits.load(userId)
    },

    commit: askId => ledger.commit(askId),

    refund: askId => ledger.refund(askId),

    refundCommitted: askId => ledger.refundCommitted(askId),

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
