/**
 * A minimal QuotaGate for an app built without the limits module: admits everyone, with max
 * in-flight 1, and keeps no ledger. The chat plugin decorates `app.quotaGate` with it only when no
 * gate was registered before it. (The chat engine itself records each reservation's fate on the
 * Ask row's `quota` column, whatever the gate.)
 */
import type { QuotaGate } from '../quotas/quota.types.js'

export const OPEN_GATE_MAX_IN_FLIGHT = 1

export function createOpenGate(): QuotaGate {
  return {
    admit: async ({ askId, userId, model }) => ({ askId, userId, model, maxInFlight: OPEN_GATE_MAX_IN_FLIGHT }),
    commit: async () => {},
    refund: async () => {},
  }
}
