/**
 * Domain errors carry a stable string code; the error handler maps them to an HTTP status and
 * `{ code, message, reqId }`. The SPA translates by code (`errors.<CODE>`); `message` is English.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UPSTREAM_ADDRESS_PRIVATE: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  INVALID_CREDENTIALS: 401,
  SESSION_EXPIRED: 401,
  FORBIDDEN: 403,
  CROSS_ORIGIN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  USERNAME_TAKEN: 409,
  LOGIN_THROTTLED: 429,
  RATE_LIMITED: 429,
  WEAK_PASSWORD: 400,
  WRONG_PASSWORD: 400,
  ACCOUNT_DISABLED: 403,
  /** An admin tried to delete, disable or demote their own account. */
  CANNOT_MODIFY_SELF: 409,
  ACCOUNT_EXPIRED: 403,
  MODEL_NOT_ALLOWED: 403,
  UNKNOWN_MODEL: 400,
  OUTSIDE_TIME_SLOT: 403,
  TOTAL_ASKS_EXHAUSTED: 403,
  MODEL_ASKS_EXHAUSTED: 403,
  RATE_WINDOW_FULL: 429,
  /** The member used their part of what the group has left of a capped model (`cap_share`). */
  CAP_SHARE_USED: 429,
  MAX_CONVERSATIONS: 403,
  TOO_MANY_IN_FLIGHT: 429,
  CONTENT_TOO_LONG: 413,
  QUEUE_FULL: 503,
  QUEUE_TIMEOUT: 503,
  UPSTREAM_TIMEOUT: 504,
  UPSTREAM_UNAUTHORIZED: 502,
  UPSTREAM_RATE_LIMITED: 503,
  UPSTREAM_ERROR: 502,
  UPSTREAM_UNAVAILABLE: 503,
  ACCOUNT_UNAVAILABLE: 503,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

export class AppError extends Error {
  readonly statusCode: number
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra public fields sent with the error (e.g. `retryAfterSeconds`). Never secrets. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message)
    this.name = 'AppError'
    this.statusCode = ERROR_STATUS[code]
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError
}
