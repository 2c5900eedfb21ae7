/**
 * The seam between the chat engine and the limits module. The chat engine calls `admit` before
 * queueing (it throws an AppError with the failing check's code), then exactly one of `commit`
 * (first output arrived) or `refund` (failed or stopped before any output) per reservation.
 */
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

export interface QuotaGate {
  /**
   * Checks and reserves. `store`, when given, runs synchronously in the SAME database transaction
   * right after the reservation (plain SQL, db/sql.ts: the chat engine stores the question there);
   * if it throws, the reservation is undone with it and `admit` rejects with that error.
   */
  admit: (input: AdmitInput, store?: (r: Reservation) => void) => Promise<Reservation>
  commit: (r: Reservation) => Promise<void>
  refund: (r: Reservation) => Promise<void>
}
