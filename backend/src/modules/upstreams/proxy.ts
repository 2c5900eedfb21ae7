/**
 * Outbound proxies: the `proxy:` of an upstream or of one of its accounts (README, "Outbound proxy").
 *
 * - `http://` and `https://` go through undici's ProxyAgent: every request, to an http or an https
 *   upstream, through a CONNECT tunnel; the URL's user name and password become
 *   `Proxy-Authorization: Basic …`.
 * - `socks5://` and `socks5h://` go through fetch-socks (SOCKS 5, RFC 1928, with the user name and
 *   password of RFC 1929). As with curl, `socks5h` lets the proxy resolve the upstream's host name and
 *   `socks5` resolves it here first.
 *
 * The timeouts are those of the direct connection (providers/shared/http.ts): `timeout_seconds` to
 * connect (the proxy's handshake included) and for the response headers, `idle_timeout_seconds`
 * between two body chunks. Failures reaching the proxy keep the codes http.ts maps (ECONNREFUSED and
 * co. → UPSTREAM_UNAVAILABLE, a slow handshake → UPSTREAM_TIMEOUT). No message made here contains the
 * proxy's credentials: they show as `scheme://host:port`.
 */
import type { buildConnector, Dispatcher } from 'undici'
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { socksConnector } from 'fetch-socks'
import { Agent, buildConnector as makeConnector, Pool, ProxyAgent } from 'undici'
import { checkHost, guardConnector, resolvePublic } from './egress-guard.js'

const DEFAULT_PORTS = { 'http:': 80, 'https:': 443, 'socks5:': 1080, 'socks5h:': 1080 } as const
type ProxyScheme = keyof typeof DEFAULT_PORTS

export interface ProxyTarget {
  scheme: ProxyScheme
  /** Without the brackets of an IPv6 address. */
  hostname: string
  port: number
  /** Percent-decoded. */
  username?: string
  password?: string
  /** `scheme://host:port`, without the credentials: what messages may show. */
  safe: string
}

/** A proxy URL that cannot be used; the message never repeats the URL (it may hold a password). */
export class ProxyUrlError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ProxyUrlError'
  }
}

const SHAPE = 'scheme://[user:password@]host[:port] with scheme http, https, socks5 or socks5h'

/** Parses a proxy URL, or throws a ProxyUrlError saying what is wrong with it. */
export function parseProxyUrl(raw: string): ProxyTarget {
  const scheme = `${/^([a-z][\w+.-]*):\/\//i.exec(raw.trim())?.[1]?.toLowerCase() ?? ''}:`
  if (!(scheme in DEFAULT_PORTS))
    throw new ProxyUrlError(`expected ${SHAPE}`)
  let url: URL
  try {
    url = new URL(raw.trim())
  }
  catch {
    throw new ProxyUrlError(`not a valid URL: check the host and the port (1-65535), and percent-encode reserved characters of the user name and password (expected ${SHAPE})`)
  }
  if (!url.hostname)
    throw new ProxyUrlError(`a host is required (expected ${SHAPE})`)
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash)
    throw new ProxyUrlError(`expected no path, query or fragment (expected ${SHAPE})`)
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[scheme as ProxyScheme]
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new ProxyUrlError(`the port must be 1-65535 (expected ${SHAPE})`)
  let username: string | undefined
  let password: string | undefined
  try {
    username = url.username ? decodeURIComponent(url.username) : undefined
    password = url.password ? decodeURIComponent(url.password) : undefined
  }
  catch {
    throw new ProxyUrlError('the user name or the password is not valid percent-encoding')
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const host = isIP(hostname) === 6 ? `[${hostname}]` : hostname
  return { scheme: scheme as ProxyScheme, hostname, port, username, password, safe: `${scheme}//${host}:${port}` }
}

/** What is wrong with a proxy URL, for the configuration's checks; undefined when it can be used. */
export function proxyUrlProblem(raw: string): string | undefined {
  try {
    parseProxyUrl(raw)
    return undefined
  }
  catch (err) {
    if (err instanceof ProxyUrlError)
      return err.message
    throw err
  }
}

export interface ProxyTimeouts {
  timeout_seconds?: number
  idle_timeout_seconds?: number
}

/**
 * An account's dispatcher: through its proxy when it has one; with `guarded` (an upstream saved from
 * the dashboard, unless `network.allow_private_upstreams`) every connection passes the SSRF guard
 * (egress-guard.ts). Undefined: the provider's own direct pool (providers/shared/http.ts).
 */
export function accountDispatcher(proxyUrl: string | undefined, u: ProxyTimeouts, guarded: boolean): Dispatcher | undefined {
  if (proxyUrl)
    return dispatcherFor(proxyUrl, u, { guarded })
  if (!guarded)
    return undefined
  const connectMs = (u.timeout_seconds ?? 30) * 1000
  return new Agent({
    connect: guardConnector(makeConnector({ timeout: connectMs })),
    headersTimeout: connectMs,
    bodyTimeout: (u.idle_timeout_seconds ?? 120) * 1000,
  })
}

/** The dispatcher that sends an upstream account's requests through `proxyUrl`. */
export function dispatcherFor(proxyUrl: string, u: ProxyTimeouts = {}, opts: { guarded?: boolean } = {}): Dispatcher {
  let target: ProxyTarget
  try {
    target = parseProxyUrl(proxyUrl)
  }
  catch (err) {
    throw err instanceof ProxyUrlError ? new ProxyUrlError(`proxy URL: ${err.message}`) : err
  }
  const timeouts = {
    connectMs: (u.timeout_seconds ?? 30) * 1000,
    headersMs: (u.timeout_seconds ?? 30) * 1000,
    bodyMs: (u.idle_timeout_seconds ?? 120) * 1000,
    guarded: !!opts.guarded,
  }
  return target.scheme === 'http:' || target.scheme === 'https:'
    ? httpProxy(target, timeouts)
    : socksProxy(target, timeouts)
}

interface Timeouts { connectMs: number, headersMs: number, bodyMs: number, guarded: boolean }

function httpProxy(p: ProxyTarget, t: Timeouts): Dispatcher {
  const token = p.username !== undefined || p.password !== undefined
    ? `Basic ${Buffer.from(`${p.username ?? ''}:${p.password ?? ''}`).toString('base64')}`
    : undefined
  return new ProxyAgent({
    // The credentials go in the header only, never in a URL that an error could repeat.
    uri: p.safe,
    token,
    proxyTls: { timeout: t.connectMs },
    requestTls: { timeout: t.connectMs },
    clientFactory: (origin, opts) => tunnelPool(origin, opts, p, t),
    connect: { timeout: t.connectMs },
    headersTimeout: t.headersMs,
    bodyTimeout: t.bodyMs,
  })
}

/**
 * The connection pool to an HTTP proxy, for its CONNECT requests: a proxy that never answers is a
 * timeout (not a hang), and a refused tunnel says why, with a code http.ts maps (ProxyAgent itself
 * only says "Proxy response (407) !== 200").
 */
function tunnelPool(origin: URL, opts: object, p: ProxyTarget, t: Timeouts): Dispatcher {
  const base = opts as { connect?: buildConnector.connector }
  // Guarded: the proxy's own address is checked as it connects, the upstream's host before the CONNECT.
  const guardedConnect = t.guarded && typeof base.connect === 'function' ? { connect: guardConnector(base.connect) } : {}
  const pool = new Pool(origin, { ...opts, ...guardedConnect, headersTimeout: t.headersMs })
  const connect = pool.connect.bind(pool) as (o: Dispatcher.ConnectOptions) => Promise<Dispatcher.ConnectData>
  const tunnel = async (o: Dispatcher.ConnectOptions): Promise<Dispatcher.ConnectData> => {
    if (t.guarded)
      await checkHost(o.path.replace(/:\d+$/, ''))
    const data = await connect(o)
    if (data.statusCode === 200)
      return data
    data.socket.on('error', () => {}).destroy()
    throw tunnelRefused(data.statusCode, p)
  }
  return Object.assign(pool, { connect: tunnel })
}

function tunnelRefused(status: number, p: ProxyTarget): Error {
  const out = (code: string, message: string): Error => Object.assign(new Error(`proxy ${p.safe}: ${message} (HTTP ${status})`), { code })
  if (status === 407) {
    return p.username === undefined
      ? out('ERR_PROXY_REFUSED', 'the proxy wants a user name and password')
      : out('ERR_PROXY_REFUSED', 'the proxy refused the user name or password')
  }
  // What a proxy answers when it cannot connect to the upstream (502 and 504 per RFC 9110; some say 500 or 503).
  if (status >= 500)
    return out('ECONNREFUSED', 'the proxy cannot reach the upstream')
  return out('ERR_PROXY_REFUSED', 'the proxy refused the tunnel')
}

function socksProxy(p: ProxyTarget, t: Timeouts): Dispatcher {
  const tunnel = socksConnector(
    { host: p.hostname, port: p.port, type: 5, userId: p.username, password: p.password },
    { timeout: t.connectMs },
  )
  const through = (opts: buildConnector.Options, callback: buildConnector.Callback): void => {
    tunnel(opts, (...args) => {
      if (args[0])
        callback(socksFailure(args[0], p.safe), null)
      else
        callback(...args)
    })
  }
  const connect: buildConnector.connector = (opts, callback) => {
    const name = opts.hostname.replace(/^\[(.*)\]$/, '$1')
    if (t.guarded) {
      // The proxy's address and the upstream's (resolved here for socks5, as far as it resolves for socks5h).
      resolvePublic(p.hostname)
        .then(() => p.scheme === 'socks5h:' ? checkHost(name).then(() => name) : resolvePublic(name).then(([a]) => a!))
        .then(
          address => through({ ...opts, hostname: address, servername: opts.servername ?? (isIP(name) ? undefined : name) }, callback),
          (err: Error) => callback(err, null),
        )
      return
    }
    if (p.scheme === 'socks5h:' || isIP(name)) {
      through(opts, callback)
      return
    }
    // socks5://: the name is resolved here and the proxy is given the address (TLS still names the host).
    lookup(name).then(
      ({ address }) => through({ ...opts, hostname: address, servername: opts.servername ?? name }, callback),
      (err: Error) => callback(err, null),
    )
  }
  return new Agent({ connect, headersTimeout: t.headersMs, bodyTimeout: t.bodyMs })
}

const SYSTEM_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT'] as const

/** What the SOCKS proxy's reply means, by the reply names of the `socks` client (RFC 1928 §6). */
const SOCKS_REPLIES: Record<string, string> = {
  ConnectionRefused: 'ECONNREFUSED',
  HostUnreachable: 'EHOSTUNREACH',
  NetworkUnreachable: 'ENETUNREACH',
  TTLExpired: 'EHOSTUNREACH',
}

/**
 * A SOCKS failure as an error with a code that http.ts maps: the `socks` client reports them as
 * messages only (its own, or the socket's, like "connect ECONNREFUSED 127.0.0.1:1080").
 */
function socksFailure(err: Error, where: string): Error {
  const text = err.message ?? ''
  const out = (code: string, message: string): Error => Object.assign(new Error(`proxy ${where}: ${message}`, { cause: err }), { code })
  if (/timed out/i.test(text))
    return out('UND_ERR_CONNECT_TIMEOUT', 'no connection through the proxy in time')
  const system = SYSTEM_CODES.find(c => text.includes(c))
  if (system === 'ETIMEDOUT')
    return out('UND_ERR_CONNECT_TIMEOUT', 'no connection to the proxy in time')
  if (system)
    return out(system, `cannot reach the proxy (${system})`)
  const reply = Object.keys(SOCKS_REPLIES).find(r => text.includes(`rejected connection - ${r}`))
  if (reply)
    return out(SOCKS_REPLIES[reply]!, `the proxy cannot reach the upstream (${reply})`)
  if (/Authentication failed/i.test(text))
    return out('ERR_PROXY_REFUSED', 'the proxy refused the user name or password')
  if (/no accepted authentication type/i.test(text))
    return out('ERR_PROXY_REFUSED', 'the proxy wants a user name and password (or other ones than these)')
  if (/rejected connection/i.test(text))
    return out('ERR_PROXY_REFUSED', `the proxy refused the connection (${text.replace(/^.*rejected connection - /, '')})`)
  if (/Socket closed/i.test(text))
    return out('ECONNRESET', 'the proxy closed the connection')
  return out('ERR_PROXY', `SOCKS failure (${text.slice(0, 120)})`)
}
