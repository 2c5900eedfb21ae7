/**
 * A minimal QuotaGate used until the limits module provides the real one: admits everyone with
 * max in-flight 1, and records the reservation's fate on the Ask row's `quota` column (the chat
 * engine creates the row with `quota: "reserved"`). Replaced by decorating `app.quotaGate` with the
 * limits module's gate instead (one place, in app.ts).
 */
import type { Db } from '../../db/client.js'
import type { QuotaGate, Reservation } from '../quotas/quota.types.js'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    /** Admission, commit and refund of asks (the limits module's gate, or the open gate below). */
    quotaGate: QuotaGate
  }
}

export const OPEN_GATE_MAX_IN_FLIGHT = 1

export function createOpenGate(db: Db): QuotaGate {
  const mark = async (r: Reservation, quota: 'committed' | 'refunded'): Promise<void> => {
    await db.ask.updateMany({ where: { id: r.askId, quota: 'reserved' }, data: { quota } })
  }
  return {
    admit: async ({ askId, userId, model }) => ({ askId, userId, model, maxInFlight: OPEN_GATE_MAX_IN_FLIGHT }),
    commit: r => mark(r, 'committed'),
    refund: r => mark(r, 'refunded'),
  }
}

/** Decorates `app.quotaGate` with the open gate. The limits module registers its own plugin named 'quota-gate' instead. */
export const openGatePlugin = fp(async (app) => {
  app.decorate('quotaGate', createOpenGate(app.db))
}, { name: 'quota-gate', dependencies: ['db'] })
