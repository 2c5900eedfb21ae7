import type { LimitsService } from '../limits/limits.service.js'
import type { QuotaGate } from './quota.types.js'
import fp from 'fastify-plugin'
import { assertTimeZone } from '../limits/limits.logic.js'
import { createLimitsService } from '../limits/limits.service.js'
import { createQuotaGate } from './quota.gate.js'
import { createQuotaRepository } from './quota.repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Members' limits: admin edits, defaults for new members, what members see. */
    limits: LimitsService
    /** Checks and reserves an ask before it is queued; commit/refund afterwards. */
    quotaGate: QuotaGate
  }
}

/**
 * Limits and quotas. Needs `db` and `providers`. At start-up, reservations left open by a previous
 * run are refunded (they had no output, or they would have been committed).
 */
export default fp(async (app) => {
  const timezone = app.config.limits.timezone
  try {
    assertTimeZone(timezone)
  }
  catch {
    throw new Error(`limits.timezone: "${timezone}" is not an IANA time zone (e.g. "UTC", "Europe/Berlin", "Asia/Shanghai")`)
  }
  const now = (): Date => app.now()
  const limits = createLimitsService({ db: app.db, now, timezone, models: () => app.providers.models() })
  const gate = createQuotaGate({
    limits,
    ledger: createQuotaRepository(app.db),
    now,
    timezone,
    logger: app.log.child({ module: 'quotas' }),
  })
  await gate.recover()
  app.decorate('limits', limits)
  app.decorate('quotaGate', gate)
}, { name: 'quotas', dependencies: ['db', 'providers'] })
