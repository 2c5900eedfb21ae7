/**
 * How an ask ended, as stored and as told to the member: the final status, the `error` event, the
 * usage. Member-facing messages never carry an upstream body. See docs/architecture.md.
 */
import type { ChatStreamEvents, ChatUsage } from '../../contracts/chat.js'
import { AppError } from '../../lib/errors.js'
import { ProviderError } from '../providers/types.js'

/** Why an ask was stopped before its end. */
export type StopReason
  /** The member's stop button (any tab), or the conversation being deleted. */
  = | 'stop'
  /** Nobody listened for the detach grace period. */
    | 'detached'
  /** The server is shutting down. */
    | 'shutdown'

/** The retry hint sent with a shutdown's `error` event: about how long a restart takes. */
export const RESTART_RETRY_SECONDS = 5

export type FinalStatus = 'done' | 'stopped' | 'error' | 'interrupted'

/** Thrown inside a run when it was stopped (never leaves the module). */
export class Stopped extends Error {
  constructor() {
    super('stopped')
    this.name = 'Stopped'
  }
}

export interface Outcome {
  status: FinalStatus
  /** Present when the stream ends with `error` rather than `done`. */
  error?: ChatStreamEvents['error']
}

/** The end of an ask from what stopped it (if anything) and what went wrong (if anything). */
export function outcomeOf(stopReason: StopReason | undefined, finished: boolean, err: unknown, graceSeconds: number): Outcome {
  if (err instanceof Stopped || (stopReason !== undefined && !finished)) {
    if (stopReason === 'shutdown')
      return { status: 'interrupted', error: { code: 'SERVICE_UNAVAILABLE', message: 'The server is restarting; the answer so far is kept. Ask again in a few seconds.', retryAfterSeconds: RESTART_RETRY_SECONDS } }
    // With no grace (0), a listener going away is a stop, as the stop button is.
    if (stopReason === 'detached' && graceSeconds > 0) {
      const minutes = Math.max(1, Math.round(graceSeconds / 60))
      return { status: 'interrupted', error: { code: 'INTERRUPTED', message: `Nobody was watching this answer for ${minutes} min, so it was stopped; the text so far is kept.` } }
    }
    return { status: 'stopped' }
  }
  if (err)
    return { status: 'error', error: toErrorEvent(err) }
  return { status: 'done' }
}

export function toErrorEvent(err: unknown): ChatStreamEvents['error'] {
  if (err instanceof ProviderError) {
    const e: ChatStreamEvents['error'] = { code: err.code, message: providerMessage(err.code) }
    if (err.extra.retryAfterSeconds !== undefined)
      e.retryAfterSeconds = err.extra.retryAfterSeconds
    return e
  }
  if (err instanceof AppError)
    return { code: err.code, message: err.message, ...(typeof err.details?.retryAfterSeconds === 'number' ? { retryAfterSeconds: err.details.retryAfterSeconds } : {}) }
  return { code: 'UPSTREAM_ERROR', message: providerMessage('UPSTREAM_ERROR') }
}

/** Member-facing messages: never an upstream body. */
function providerMessage(code: ProviderError['code']): string {
  switch (code) {
    case 'UPSTREAM_TIMEOUT': return 'The upstream took too long to answer.'
    case 'UPSTREAM_UNAUTHORIZED': return 'The shared account was refused by the upstream; the administrator has been told.'
    case 'UPSTREAM_RATE_LIMITED': return 'The upstream is rate-limiting us; try again in a little while.'
    case 'UPSTREAM_UNAVAILABLE': return 'The upstream cannot be reached right now.'
    default: return 'The upstream failed to answer.'
  }
}

/** Only the integer counts go on the wire. */
export function cleanUsage(u: ChatUsage): ChatUsage {
  const out: ChatUsage = {}
  for (const k of ['promptTokens', 'completionTokens', 'totalTokens'] as const) {
    if (Number.isInteger(u[k]))
      out[k] = u[k]
  }
  return out
}
