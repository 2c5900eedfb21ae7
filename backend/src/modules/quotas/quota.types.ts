/**
 * The seam between the ask pipeline and the limits module. Admission calls `reserveIn` inside its
 * transaction, then exactly one of `commit` (first output arrived) or `refund` (failed or stopped
 * before any output) follows per reservation.
 */
import type { WriteTx } from '../../db/sql.js'
import type { AppError } from '../../lib/errors.js'

export interface AdmitInput {
  userId: number
  model: string
  /** The Ask row id (requestId) the reservation is recorded on. */
  askId: string
  /** True when the ask starts a new conversation (checked against maxConversations). */
  newConversation: boolean
}

export interface Reservation {
  askId: string
  userId: number
  model: string
  /** The member's max in-flight asks, for the queue. */
  maxInFlight: number
}

/** Why `reserveIn` reserved nothing without an error: 'no-limits' = load the member's limits, then try again; 'changed' = an admin edit landed, try again. */
export type ReserveRetry = 'no-limits' | 'changed'

export interface QuotaGate {
  /**
   * Runs the ordered checks and reserves, synchronously, inside the caller's write block (the
   * admission transaction, which stores the ask in the same block). A failed check is returned as
   * an AppError (not thrown: what the check stored, e.g. a default count, is kept).
   */
  reserveIn: (tx: WriteTx, input: AdmitInput) => Reservation | ReserveRetry | AppError
  /** Gives a member without limits their limits from the defaults (before retrying `reserveIn`). */
  loadLimits: (userId: number) => Promise<void>
  /** First output arrived: the reservation is spent. Once; later calls change nothing. */
  commit: (askId: string) => Promise<unknown>
  /** No output: the units go back. Once; later calls change nothing. */
  refund: (askId: string) => Promise<unknown>
  /** Committed, but cut by our own crash or shutdown: the unit goes back. Once; true when it did. */
  refundCommitted: (askId: string) => Promise<boolean>
}
