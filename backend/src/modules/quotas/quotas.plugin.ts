import type { QuotaGate } from './quota.types.js'
import fp from 'fastify-plugin'
import { createQuotaGate } from './quota.gate.js'
import { createQuotaRepository } from './quota.repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Checks and reserves an ask inside its admission transaction; commit/refund afterwards. */
    quotaGate: QuotaGate
  }
}

/**
 * Quotas: the ordered checks and the reservation ledger. At start-up, reservations left open by a
 * previous run are refunded (they had no output, or they would have been committed).
 */
export default fp(async (app) => {
  const gate = createQuotaGate({
    limits: app.limits,
    ledger: createQuotaRepository(app.db),
    now: () => app.now(),
    timezone: app.config.limits.timezone,
    logger: app.log.child({ module: 'quotas' }),
  })
  await gate.recover()
  app.decorate('quotaGate', gate)
}, { name: 'quotas', dependencies: ['db', 'limits'] })
