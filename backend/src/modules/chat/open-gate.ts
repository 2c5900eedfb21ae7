/**
 * A minimal QuotaGate for an app built without the limits module: admits everyone, with max
 * in-flight 1, and keeps no ledger. The chat plugin decorates `app.quotaGate` with it only when no
 * gate was registered before it. (The chat engine itself records each reservation's fate on the
 * Ask row's `quota` column, whatever the gate.)
 */
import type { QuotaGate } from '../quotas/quota.types.js'

export const OPEN_GATE_MAX_IN_FLIGHT = 1

export function createOpenGate(write: <T>(fn: () => T) => Promise<T>): QuotaGate {
  return {
    admit: ({ askId, userId, model }, store) => write(() => {
      const r = { askId, userId, model, maxInFlight: OPEN_GATE_MAX_IN_FLIGHT }
      store?.(r)
      return r
    }),
    commit: async () => {},
    refund: async () => {},
  }
}
