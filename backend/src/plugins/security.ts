import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../lib/errors.js'

/**
 * Baseline protection for every response and every mutating API call:
 *
 * - security headers (helmet's set, computed once at start, not per request) with a strict CSP the
 *   built SPA runs under: scripts only from us; inline styles allowed because naive-ui injects
 *   `<style>` tags at runtime; images and fonts from us or data:/blob: (KaTeX fonts, exported
 *   images); no plugins, no framing, no foreign form targets. HSTS only on requests that came over
 *   HTTPS.
 * - POST/PUT/PATCH/DELETE under /api: a body must be `application/json` (else 415), and a
 *   cross-origin `Origin` is refused (403 CROSS_ORIGIN) unless it is our own origin — scheme, host
 *   and port all equal — or listed in `server.allowed_origins`. Our own origin is exactly
 *   `server.public_url`'s when set (a forged Host cannot move it), else the request's own scheme and
 *   Host. SameSite=Strict cookies already stop most cross-site requests; this closes the rest (and
 *   same-site-but-cross-origin ones, e.g. another port of the same host).
 * - every /api answer (errors included) is `Cache-Control: no-store`: per user, never cached.
 */

export const CSP_DIRECTIVES = {
  'default-src': ['\'self\''],
  'script-src': ['\'self\''],
  'style-src': ['\'self\'', '\'unsafe-inline\''],
  'img-src': ['\'self\'', 'data:', 'blob:'],
  'font-src': ['\'self\'', 'data:'],
  'connect-src': ['\'self\''],
  'object-src': ['\'none\''],
  'frame-ancestors': ['\'none\''],
  'base-uri': ['\'self\''],
  'form-action': ['\'self\''],
}

/** The `Content-Security-Policy` value, as helmet would format it. */
export function cspHeader(directives: Record<string, string[]> = CSP_DIRECTIVES): string {
  return Object.entries(directives).map(([k, v]) => `${k} ${v.join(' ')}`).join(';')
}

/**
 * The headers every response carries: helmet's defaults (v8) with our CSP and `X-Frame-Options:
 * DENY`. A constant: building them per request (as @fastify/helmet does) was 3–4% of the server's
 * CPU under a burst of asks (docs/performance.md).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': cspHeader(),
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
})

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const JSON_TYPE = /^application\/json\s*(?:;|$)/i

function isApi(url: string): boolean {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?')
}

/**
 * The serialized origin (`scheme://host[:port]`, lower case, default port dropped) of a URL, or null
 * for anything that is not an http(s) URL (`null` from sandboxed frames and file://, garbage).
 */
function originOf(url: string): string | null {
  try {
    const u = new URL(url)
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null
  }
  catch {
    return null
  }
}

/**
 * The path the router matched (`/%61pi/x` is routed as `/api/x`), else the raw URL (no route: a 404).
 * Never the raw URL alone: percent-encoding the prefix would skip the checks below.
 */
function apiPath(req: FastifyRequest): string {
  return req.routeOptions.url ?? req.url
}

function hasBody(req: FastifyRequest): boolean {
  const len = req.headers['content-length']
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined
}

export default fp(async (app) => {
  const { allowed_origins: listed, public_url: publicUrl } = app.config.server
  const allowed = new Set(listed.map(o => originOf(o) ?? o))
  const pinned = publicUrl === undefined ? null : originOf(publicUrl)

  /**
   * Our own origin: `server.public_url`'s when set; else the request's, from its scheme and Host
   * (Fastify's `protocol` and `host` follow X-Forwarded-Proto/-Host only with `server.trust_proxy`).
   */
  function ownOrigin(req: FastifyRequest): string | null {
    return pinned ?? originOf(`${req.protocol}://${req.host}`)
  }

  function originAllowed(origin: string, req: FastifyRequest): boolean {
    const o = originOf(origin)
    return o !== null && (o === ownOrigin(req) || allowed.has(o))
  }

  app.addHook('onRequest', async (req, reply) => {
    reply.headers(SECURITY_HEADERS)
    if (req.protocol === 'https')
      reply.header('Strict-Transport-Security', 'max-age=15552000; includeSubDomains')
    if (!MUTATING.has(req.method) || !isApi(apiPath(req)))
      return
    const origin = req.headers.origin
    if (origin !== undefined && !originAllowed(origin, req)) {
      req.log.warn({ origin, expected: ownOrigin(req) }, 'cross-origin request refused; if this is our own site, set server.public_url to the address members open (or, behind a proxy, send X-Forwarded-Host/-Proto with server.trust_proxy), or add the origin to server.allowed_origins')
      throw new AppError('CROSS_ORIGIN', 'Requests from another site are not accepted.')
    }
    if (hasBody(req) && !JSON_TYPE.test(req.headers['content-type'] ?? ''))
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json.')
  })

  // API answers are per user (and may carry conversations): no browser or proxy cache may keep
  // them. The chat stream (hijacked, its own headers) and routes that set Cache-Control keep theirs.
  app.addHook('onSend', async (req, reply) => {
    if (!reply.hasHeader('cache-control') && isApi(apiPath(req)))
      reply.header('Cache-Control', 'no-store')
  })
}, { name: 'security' })
