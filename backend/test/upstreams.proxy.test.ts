/**
 * Outbound proxies, end to end: asks from a member through our server, through a real HTTP proxy
 * (TooTallNate's `proxy`) or a real SOCKS 5 proxy (@pondwader/socks5-server) on 127.0.0.1, to the
 * fake upstream; the proxies count what they were asked and with which credentials.
 */
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { ListeningApp } from './chat.helpers.js'
import type { FakeUpstream } from './fake-upstream/server.js'
import type { TestSession } from './helper.js'
import { rmSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createConnection, createServer as createNetServer, isIP } from 'node:net'
import { Socks5Server } from '@pondwader/socks5-server'
import { createProxy } from 'proxy'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { ConfigError, parseConfig } from '../src/config/load.js'
import { createLogger, LogRing } from '../src/lib/logger.js'
import { dispatcherFor, parseProxyUrl } from '../src/modules/upstreams/proxy.js'
import { members, open } from './chat.helpers.js'
import { startFakeUpstream } from './fake-upstream/server.js'
import { ADMIN, tempDataDir } from './helper.js'

const HTTP_USER = 'px-user'
const HTTP_PASS = 'http-pass-9f3kQ'
const SOCKS_USER = 'sx-user'
const SOCKS_PASS = 'socks-pass-Zr7w2'
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`

interface Peer {
  port: number
  close: () => Promise<void>
}

/** Closes a server and every connection it has (kept-alive tunnels included). */
function closer(server: { close: (cb: () => void) => unknown }, sockets: Set<Socket>): () => Promise<void> {
  return async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
}

async function listen(server: { listen: (port: number, host: string, cb: () => void) => unknown, address: () => unknown }): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

interface HttpProxy extends Peer {
  /** CONNECT requests: the target and the Proxy-Authorization they came with. */
  connects: Array<{ target: string, auth: string | undefined }>
}

/** A real HTTP proxy that wants HTTP_USER:HTTP_PASS. */
async function startHttpProxy(): Promise<HttpProxy> {
  const server = createProxy(createHttpServer())
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const connects: HttpProxy['connects'] = []
  server.on('connect', (req: IncomingMessage) => {
    connects.push({ target: req.url ?? '', auth: req.headers['proxy-authorization'] })
  })
  server.authenticate = req => req.headers['proxy-authorization'] === basic(HTTP_USER, HTTP_PASS)
  const port = await listen(server)
  return { port, connects, close: closer(server, sockets) }
}

interface SocksProxy extends Peer {
  /** Every user name and password offered. */
  logins: Array<{ username: string, password: string }>
  /** Every CONNECT: the destination as the client sent it (a name or an address). */
  connects: Array<{ address: string, port: number }>
}

/** A real SOCKS 5 proxy that wants SOCKS_USER:SOCKS_PASS. */
async function startSocksProxy(): Promise<SocksProxy> {
  const socks = new Socks5Server()
  const logins: SocksProxy['logins'] = []
  const connects: SocksProxy['connects'] = []
  socks.setAuthHandler((conn) => {
    logins.push({ username: conn.username, password: conn.password })
    return conn.username === SOCKS_USER && conn.password === SOCKS_PASS
  })
  socks.setConnectionHandler((conn, sendStatus) => {
    connects.push({ address: conn.destAddress, port: conn.destPort })
    // The fake upstream listens on 127.0.0.1 only, wherever "localhost" resolves first.
    const host = conn.destAddress === 'localhost' || conn.destAddress === '::1' ? '127.0.0.1' : conn.destAddress
    const out = createConnection({ host, port: conn.destPort })
    let opened = false
    conn.socket.on('error', () => {})
    out.on('error', () => {
      if (!opened)
        sendStatus('CONNECTION_REFUSED')
    })
    out.on('connect', () => {
      opened = true
      sendStatus('REQUEST_GRANTED')
      conn.socket.pipe(out).pipe(conn.socket)
    })
    conn.socket.on('close', () => out.destroy())
  })
  const sockets = new Set<Socket>()
  const server = createNetServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    socks._handleConnection(s)
  })
  const port = await listen(server)
  return { port, logins, connects, close: closer(server, sockets) }
}

/** Accepts connections and never says a word. */
async function startBlackHole(): Promise<Peer> {
  const sockets = new Set<Socket>()
  const server = createNetServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
  })
  const port = await listen(server)
  return { port, close: closer(server, sockets) }
}

/** A port nothing listens on (taken, then released). */
async function deadPort(): Promise<number> {
  const server = createNetServer()
  const port = await listen(server)
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}

/** The real app listening on 127.0.0.1, with its log lines kept (as the admin's live view keeps them). */
async function startLoggedApp(config: Record<string, unknown>): Promise<ListeningApp & { ring: LogRing }> {
  const dataDir = tempDataDir()
  const cfg = parseConfig({ log: { level: 'trace', file: false }, admin: { username: ADMIN.username, password: ADMIN.password }, chat: { ping_seconds: 600 }, ...config })
  const ring = new LogRing(100_000)
  const logger = createLogger({ level: 'trace', dataDir, file: false, ring, destination: { write: () => {} } })
  const app = await buildApp({ config: cfg, dataDir, logger, logRing: ring })
  await app.ready()
  await app.listen({ port: 0, host: '127.0.0.1' })
  const addr = app.server.address()
  if (!addr || typeof addr === 'string')
    throw new Error('not listening')
  return {
    app,
    dataDir,
    ring,
    base: `http://127.0.0.1:${addr.port}`,
    close: async () => {
      await app.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

describe('asks through an outbound proxy', () => {
  let fake: FakeUpstream
  let httpProxy: HttpProxy
  let socksProxy: SocksProxy
  let hole: Peer
  let dead: number
  let t: ListeningApp & { ring: LogRing }
  let alice: TestSession

  const http = (user = HTTP_USER, pass = HTTP_PASS) => `http://${user}:${pass}@127.0.0.1:${httpProxy.port}`
  const socks = (scheme = 'socks5', user = SOCKS_USER, pass = SOCKS_PASS) => `${scheme}://${user}:${pass}@127.0.0.1:${socksProxy.port}`

  beforeAll(async () => {
    ;[fake, httpProxy, socksProxy, hole, dead] = await Promise.all([startFakeUpstream(), startHttpProxy(), startSocksProxy(), startBlackHole(), deadPort()])
    const openai = (id: string, proxy: string, extra: Record<string, unknown> = {}) => ({
      id,
      type: 'openai',
      base_url: fake.openaiBaseUrl,
      accounts: [{ id: 'main', api_key: fake.apiKey, proxy }],
      models: [{ key: id, name: id, slug: 'gpt-4o-mini' }],
      ...extra,
    })
    t = await startLoggedApp({
      upstreams: [
        openai('via-http', http()),
        openai('via-socks', socks()),
        // The proxy of the upstream, for its accounts that name none.
        { id: 'web-socks', type: 'chatgpt-web', base_url: fake.chatgptBaseUrl, access_token: fake.accessToken, proxy: socks('socks5h'), models: [{ key: 'web-socks', name: 'Web', slug: 'gpt-4o' }] },
        openai('local-dns', socks('socks5'), { base_url: fake.openaiBaseUrl.replace('127.0.0.1', 'localhost') }),
        openai('remote-dns', socks('socks5h'), { base_url: fake.openaiBaseUrl.replace('127.0.0.1', 'localhost') }),
        openai('dead-http', `http://${HTTP_USER}:${HTTP_PASS}@127.0.0.1:${dead}`),
        openai('dead-socks', `socks5://${SOCKS_USER}:${SOCKS_PASS}@127.0.0.1:${dead}`),
        openai('wrong-http-pass', http(HTTP_USER, 'not-the-http-pass')),
        openai('wrong-socks-pass', socks('socks5', SOCKS_USER, 'not-the-socks-pass')),
        openai('silent-proxy', `socks5://${SOCKS_USER}:${SOCKS_PASS}@127.0.0.1:${hole.port}`, { timeout_seconds: 1 }),
        openai('silent-http-proxy', `http://${HTTP_USER}:${HTTP_PASS}@127.0.0.1:${hole.port}`, { timeout_seconds: 1 }),
      ],
    })
    ;[alice] = await members(t.app, ['alice']) as [TestSession]
  })
  afterAll(async () => {
    await t?.close()
    await Promise.all([httpProxy?.close(), socksProxy?.close(), hole?.close()])
    await fake?.close()
  })

  const fakeTarget = () => `127.0.0.1:${fake.port}`

  it('an openai upstream whose account has an http:// proxy is answered through a CONNECT tunnel with the URL\'s credentials', async () => {
    const before = httpProxy.connects.length
    const s = await open(t.base, alice, { model: 'via-http', content: 'hello through http' })
    expect((await s.last()).event).toBe('done')
    expect(s.text.length).toBeGreaterThan(0)
    const seen = httpProxy.connects.slice(before)
    expect(seen.length).toBeGreaterThanOrEqual(1)
    expect(seen).toContainEqual({ target: fakeTarget(), auth: basic(HTTP_USER, HTTP_PASS) })
    expect(fake.requests.some(r => r.path.endsWith('/chat/completions') && JSON.stringify(r.body).includes('hello through http'))).toBe(true)
  })

  it('the same through a socks5:// proxy, with the user name and password of the URL', async () => {
    const before = { logins: socksProxy.logins.length, connects: socksProxy.connects.length }
    const s = await open(t.base, alice, { model: 'via-socks', content: 'hello through socks' })
    expect((await s.last()).event).toBe('done')
    expect(s.text.length).toBeGreaterThan(0)
    expect(socksProxy.logins.slice(before.logins)).toContainEqual({ username: SOCKS_USER, password: SOCKS_PASS })
    expect(socksProxy.connects.slice(before.connects)).toContainEqual({ address: '127.0.0.1', port: fake.port })
  })

  it('a chatgpt-web upstream through the socks proxy (the upstream\'s proxy, for its one account)', async () => {
    const before = socksProxy.connects.length
    const s = await open(t.base, alice, { model: 'web-socks', content: 'hello web through socks' })
    const last = await s.last()
    expect(last.event).toBe('done')
    expect(s.text.length).toBeGreaterThan(0)
    expect(socksProxy.connects.length).toBeGreaterThan(before)
    expect(fake.requests.some(r => r.path.includes('/backend-api/') && r.headers.authorization === `Bearer ${fake.accessToken}`)).toBe(true)
  })

  it('socks5:// resolves the upstream\'s host name here, socks5h:// lets the proxy resolve it', async () => {
    const before = socksProxy.connects.length
    const local = await open(t.base, alice, { model: 'local-dns', content: 'resolved here' })
    expect((await local.last()).event).toBe('done')
    const mid = socksProxy.connects.length
    const remote = await open(t.base, alice, { model: 'remote-dns', content: 'resolved there' })
    expect((await remote.last()).event).toBe('done')
    const localSeen = socksProxy.connects.slice(before, mid)
    const remoteSeen = socksProxy.connects.slice(mid)
    expect(localSeen.length).toBeGreaterThan(0)
    expect(localSeen.every(c => isIP(c.address) !== 0)).toBe(true)
    expect(remoteSeen).toContainEqual({ address: 'localhost', port: fake.port })
  })

  for (const model of ['dead-http', 'dead-socks']) {
    it(`a proxy port nothing listens on ends the ask at once with UPSTREAM_UNAVAILABLE (${model})`, async () => {
      const started = Date.now()
      const s = await open(t.base, alice, { model, content: 'nobody there' })
      const last = await s.last()
      expect(last).toMatchObject({ event: 'error', data: { code: 'UPSTREAM_UNAVAILABLE' } })
      expect(Date.now() - started).toBeLessThan(5000)
      expect(s.names.filter(n => n === 'done' || n === 'error')).toEqual(['error'])
    })
  }

  for (const model of ['silent-proxy', 'silent-http-proxy']) {
    it(`a proxy that accepts and never answers is a timeout, not a hang (${model})`, async () => {
      const started = Date.now()
      const s = await open(t.base, alice, { model, content: 'anyone?' })
      const last = await s.last()
      expect(last).toMatchObject({ event: 'error', data: { code: 'UPSTREAM_TIMEOUT' } })
      expect(Date.now() - started).toBeLessThan(8000)
    })
  }

  it('a proxy that refuses the password ends the ask with an error event; the proxy saw the configured (wrong) credentials', async () => {
    const httpBefore = httpProxy.connects.length
    const socksBefore = socksProxy.logins.length
    const a = await open(t.base, alice, { model: 'wrong-http-pass', content: 'let me in' })
    const b = await open(t.base, alice, { model: 'wrong-socks-pass', content: 'let me in' })
    for (const s of [a, b]) {
      const last = await s.last()
      expect(last.event).toBe('error')
      if (last.event === 'error')
        expect(last.data.code).toMatch(/^UPSTREAM_/)
    }
    expect(httpProxy.connects.slice(httpBefore)).toContainEqual({ target: fakeTarget(), auth: basic(HTTP_USER, 'not-the-http-pass') })
    expect(socksProxy.logins.slice(socksBefore)).toContainEqual({ username: SOCKS_USER, password: 'not-the-socks-pass' })
  })

  it('the log says which proxy failed, and never holds a proxy\'s password or Proxy-Authorization', () => {
    const log = t.ring.recent(100_000).join('\n')
    expect(log).toContain(`proxy http://127.0.0.1:${httpProxy.port}: the proxy refused the user name or password`)
    expect(log).toContain(`proxy socks5://127.0.0.1:${socksProxy.port}: the proxy refused the user name or password`)
    for (const secret of [HTTP_PASS, SOCKS_PASS, 'not-the-http-pass', 'not-the-socks-pass', basic(HTTP_USER, HTTP_PASS).slice(6)])
      expect(log).not.toContain(secret)
  })
})

describe('proxy URLs', () => {
  const base = (proxy: string) => ({
    admin: { username: ADMIN.username, password: ADMIN.password },
    upstreams: [{ id: 'api', type: 'openai', api_key: 'sk-x', models: [{ key: 'm', name: 'M', slug: 'm' }], accounts: [{ id: 'one', api_key: 'sk-one', proxy }] }],
  })
  const problems = (raw: unknown): string[] => {
    try {
      parseConfig(raw)
      return []
    }
    catch (err) {
      if (err instanceof ConfigError)
        return err.problems
      throw err
    }
  }

  it('a proxy URL that does not parse fails the configuration, naming the key and not the password', () => {
    for (const url of ['http://user:hunter22@127.0.0.1:99999', 'socks5://user:hunter22@127.0.0.1:abc', 'socks5://user:hunter22@127.0.0.1:0', 'http://user:hunter22@proxy.example:3128/some/path']) {
      const p = problems(base(url))
      expect(p, url).toHaveLength(1)
      expect(p[0], url).toMatch(/^upstreams\[0\]\.accounts\[0\]\.proxy: /)
      expect(p[0], url).not.toContain('hunter22')
    }
    const onUpstream = problems({ ...base(''), upstreams: [{ id: 'api', type: 'openai', api_key: 'sk-x', models: [{ key: 'm', name: 'M', slug: 'm' }], proxy: 'socks5h://u:hunter22@[::1]:70000' }] })
    expect(onUpstream).toEqual([expect.stringMatching(/^upstreams\[0\]\.proxy: not a valid URL: check the host and the port/)])
  })

  it('a scheme other than http, https, socks5 or socks5h is refused without echoing the password', () => {
    const p = problems(base('ftp://user:hunter22@127.0.0.1:21'))
    expect(p).toEqual([expect.stringMatching(/^upstreams\[0\]\.accounts\[0\]\.proxy: expected string .*got "ftp:\/\/\*\*\*@127\.0\.0\.1:21"$/)])
  })

  it('good URLs pass; default ports and percent-encoded credentials are understood', () => {
    expect(problems(base('http://u:p@127.0.0.1:3128'))).toEqual([])
    expect(parseProxyUrl('socks5h://us%40er:p%3Ass@proxy.example')).toMatchObject({ scheme: 'socks5h:', hostname: 'proxy.example', port: 1080, username: 'us@er', password: 'p:ss', safe: 'socks5h://proxy.example:1080' })
    expect(parseProxyUrl('https://proxy.example')).toMatchObject({ port: 443, safe: 'https://proxy.example:443' })
    expect(parseProxyUrl('http://[::1]:8080')).toMatchObject({ hostname: '::1', safe: 'http://[::1]:8080' })
  })

  it('dispatcherFor refuses a URL it cannot use with a clear error that does not repeat it', () => {
    for (const url of ['http://user:hunter22@127.0.0.1:99999', 'gopher://user:hunter22@127.0.0.1:70']) {
      const err = (() => {
        try {
          dispatcherFor(url, {})
        }
        catch (e) {
          return e as Error
        }
      })()
      expect(err?.message, url).toMatch(/^proxy URL: (not a valid URL|expected scheme:\/\/)/)
      expect(err?.message, url).not.toContain('hunter22')
    }
  })

  it('percent-encoded proxy credentials reach the proxy decoded', async () => {
    const server = createProxy(createHttpServer((_req, res) => res.end('direct')))
    const seen: Array<string | undefined> = []
    server.on('connect', (req: IncomingMessage) => seen.push(req.headers['proxy-authorization']))
    const port = await listen(server)
    const target = createHttpServer((_req, res) => res.end('hi'))
    const targetPort = await listen(target)
    const d = dispatcherFor(`http://us%40er:p%3Ass@127.0.0.1:${port}`, { timeout_seconds: 5, idle_timeout_seconds: 5 })
    try {
      const res = await request(`http://127.0.0.1:${targetPort}/`, { dispatcher: d })
      expect(await res.body.text()).toBe('hi')
      expect(seen).toEqual([basic('us@er', 'p:ss')])
    }
    finally {
      await d.destroy()
      server.closeAllConnections()
      target.closeAllConnections()
      await Promise.all([new Promise(r => server.close(r)), new Promise(r => target.close(r))])
    }
  })
})
