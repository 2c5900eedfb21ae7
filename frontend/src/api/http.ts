import type { ErrorResponse } from '@cws/backend/contracts'

/** Every failed API call ends as an ApiError carrying the server's stable code (or NETWORK_ERROR). */
export class ApiError extends Error {
  readonly code: string
  readonly status: number
  readonly reqId?: string
  readonly retryAfterSeconds?: number
  readonly details?: unknown
  /** The answer's own fields beyond the code (`nextAllowedAt`, `fallback`, `share`, `reason`), when it had them. */
  readonly extra: Pick<ErrorResponse, 'nextAllowedAt' | 'fallback' | 'share' | 'reason'>

  constructor(init: { code: string, status: number, message: string, reqId?: string, retryAfterSeconds?: number, details?: unknown, extra?: ApiError['extra'] }) {
    super(init.message)
    this.name = 'ApiError'
    this.code = init.code
    this.status = init.status
    this.reqId = init.reqId
    this.retryAfterSeconds = init.retryAfterSeconds
    this.details = init.details
    this.extra = init.extra ?? {}
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'

export interface RequestOptions {
  body?: unknown
  query?: Record<string, string | number | boolean | undefined | null>
  signal?: AbortSignal
  headers?: Record<string, string>
}

type Listener = (err: ApiError, path: string) => void
const unauthorizedListeners = new Set<Listener>()

/** Called on every 401 from an authenticated route (e.g. to drop the cached user). */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener)
  return () => unauthorizedListeners.delete(listener)
}

function buildUrl(path: string, query?: RequestOptions['query']): string {
  const url = path.startsWith('/') ? `/api${path}` : `/api/${path}`
  if (!query)
    return url
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null)
      params.set(k, String(v))
  }
  const qs = params.toString()
  return qs ? `${url}?${qs}` : url
}

function retryAfterFrom(res: Response, body: Partial<ErrorResponse> | null): number | undefined {
  if (typeof body?.retryAfterSeconds === 'number')
    return Math.max(0, Math.ceil(body.retryAfterSeconds))
  const header = res.headers.get('Retry-After')
  if (header && /^\d+$/.test(header.trim()))
    return Number(header.trim())
  return undefined
}

/** Turns a non-2xx response into an ApiError (reads the JSON `{ code, message, reqId }` body when there is one). */
export async function toApiError(res: Response): Promise<ApiError> {
  let body: Partial<ErrorResponse> | null = null
  try {
    const text = await res.text()
    body = text ? JSON.parse(text) as Partial<ErrorResponse> : null
  }
  catch {
    body = null
  }
  const code = typeof body?.code === 'string' && body.code ? body.code : fallbackCode(res.status)
  return new ApiError({
    code,
    status: res.status,
    message: typeof body?.message === 'string' ? body.message : res.statusText || `HTTP ${res.status}`,
    reqId: typeof body?.reqId === 'string' ? body.reqId : undefined,
    retryAfterSeconds: retryAfterFrom(res, body),
    details: body?.details,
    extra: { nextAllowedAt: body?.nextAllowedAt, fallback: body?.fallback, share: body?.share, reason: body?.reason },
  })
}

function fallbackCode(status: number): string {
  if (status === 401)
    return 'UNAUTHORIZED'
  if (status === 403)
    return 'FORBIDDEN'
  if (status === 404)
    return 'NOT_FOUND'
  if (status === 429)
    return 'RATE_LIMITED'
  if (status === 502 || status === 503 || status === 504)
    return 'SERVICE_UNAVAILABLE'
  if (status >= 500)
    return 'INTERNAL'
  return 'BAD_REQUEST'
}

export function networkError(err: unknown): ApiError {
  return new ApiError({ code: 'NETWORK_ERROR', status: 0, message: err instanceof Error ? err.message : String(err) })
}

/** Sends a request to `/api<path>` and returns the raw Response when it is 2xx; throws ApiError otherwise. */
export async function rawRequest(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers }
  let body: string | undefined
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  let res: Response
  try {
    res = await fetch(buildUrl(path, opts.query), { method, headers, body, credentials: 'same-origin', signal: opts.signal })
  }
  catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError')
      throw err
    throw networkError(err)
  }
  if (!res.ok) {
    const err = await toApiError(res)
    if (res.status === 401 && !path.startsWith('/auth/login'))
      unauthorizedListeners.forEach(l => l(err, path))
    throw err
  }
  return res
}

/** JSON request; resolves with the parsed body (undefined for 204). */
export async function request<T>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await rawRequest(method, path, opts)
  if (res.status === 204)
    return undefined as T
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

export const http = {
  get: <T>(path: string, opts?: Omit<RequestOptions, 'body'>) => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body }),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, { ...opts, body }),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, body }),
  delete: <T>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
}
