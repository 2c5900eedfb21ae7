import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, http, onUnauthorized } from './http'

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })
}

afterEach(() => {
  vi.unstubAllGlobals()
})

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p
  }
  catch (err) {
    expect(err).toBeInstanceOf(ApiError)
    return err as ApiError
  }
  throw new Error('expected a rejection')
}

describe('http', () => {
  it('sends JSON with same-origin credentials under /api and parses the answer', async () => {
    const fetchMock = vi.fn(async () => jsonResponse(200, { ok: true }))
    vi.stubGlobal('fetch', fetchMock)
    const res = await http.post<{ ok: boolean }>('/auth/login', { username: 'a', password: 'b' })
    expect(res).toEqual({ ok: true })
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/auth/login')
    expect(init.method).toBe('POST')
    expect(init.credentials).toBe('same-origin')
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json')
    expect(init.body).toBe('{"username":"a","password":"b"}')
  })

  it('builds query strings and skips empty values', async () => {
    const fetchMock = vi.fn(async () => jsonResponse(200, []))
    vi.stubGlobal('fetch', fetchMock)
    await http.get('/conversations', { query: { page: 2, q: undefined, search: 'a b' } })
    expect((fetchMock.mock.calls[0] as unknown as [string])[0]).toBe('/api/conversations?page=2&search=a+b')
  })

  it('turns a `{code}` error body into an ApiError with status, message and reqId', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => jsonResponse(401, { code: 'INVALID_CREDENTIALS', message: 'Wrong username or password', reqId: 'r-1' })))
    const err = await caught(http.post('/auth/login', {}))
    expect(err.code).toBe('INVALID_CREDENTIALS')
    expect(err.status).toBe(401)
    expect(err.message).toBe('Wrong username or password')
    expect(err.reqId).toBe('r-1')
  })

  it('carries retryAfterSeconds from the body, else from the Retry-After header', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => jsonResponse(429, { code: 'LOGIN_THROTTLED', message: 'x', reqId: 'r', retryAfterSeconds: 41.2 })))
    expect((await caught(http.post('/auth/login', {}))).retryAfterSeconds).toBe(42)

    vi.stubGlobal('fetch', vi.fn(async () => jsonResponse(429, { code: 'RATE_LIMITED', message: 'x', reqId: 'r' }, { 'Retry-After': '7' })))
    expect((await caught(http.get('/me'))).retryAfterSeconds).toBe(7)
  })

  it('maps a non-JSON error page (a proxy 502) to a code by status', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('<html>Bad gateway</html>', { status: 502 })))
    const err = await caught(http.get('/me'))
    expect(err.code).toBe('SERVICE_UNAVAILABLE')
    expect(err.status).toBe(502)
  })

  it('turns a failed fetch into NETWORK_ERROR', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => {
      throw new TypeError('Failed to fetch')
    }))
    const err = await caught(http.get('/me'))
    expect(err.code).toBe('NETWORK_ERROR')
    expect(err.status).toBe(0)
  })

  it('lets an abort through as an AbortError, not an ApiError', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => {
      throw new DOMException('aborted', 'AbortError')
    }))
    await expect(http.get('/me')).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('tells listeners about a 401 on authenticated routes, not on a failed login', async () => {
    const seen: string[] = []
    const off = onUnauthorized((_e, path) => seen.push(path))
    vi.stubGlobal('fetch', vi.fn(async () => jsonResponse(401, { code: 'UNAUTHORIZED', message: 'x', reqId: 'r' })))
    await caught(http.get('/me'))
    await caught(http.post('/auth/login', {}))
    off()
    expect(seen).toEqual(['/me'])
  })

  it('returns undefined for 204', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 204 })))
    expect(await http.post('/auth/logout')).toBeUndefined()
  })
})
