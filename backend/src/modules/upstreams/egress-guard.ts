import type { buildConnector } from 'undici'
/**
 * The SSRF guard of the upstreams saved from the admin dashboard (README, "Network";
 * docs/architecture.md, "Upstreams and accounts").
 *
 * An admin (or a stolen admin session) must not be able to point the server at this machine or the
 * networks behind it: loopback, link-local (169.254.169.254, the cloud metadata service), private,
 * CGNAT, unique-local, unspecified, and the IPv6 forms that embed one of them (IPv4-mapped, NAT64,
 * 6to4, Teredo). Only addresses ipaddr.js calls `unicast` (public) pass, unless the operator sets
 * `network.allow_private_upstreams: true` in config.yaml (a reverse proxy on the same host).
 *
 * The check that counts is at connect time: the guarded connector resolves the host name itself,
 * refuses when any of its addresses is private, and connects to the address it checked (so a DNS
 * answer that changes between the check and the connection — rebinding — cannot slip through).
 * Every connection of the account goes through it, so does the one a redirect would open. Through
 * an outbound proxy, the proxy's own address is checked, and the upstream's host as far as it
 * resolves here. The save-time check (`privateHostProblem`) only gives the admin an early, clear
 * error. Config-file upstreams are the operator's and are never restricted.
 */
import type { UpstreamConfig } from '../../config/schema.js'
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'
import { AppError } from '../../lib/errors.js'
import { DEFAULT_OPENAI_BASE } from '../providers/openai/openai.provider.js'
import { accountsOf, sessionUrlOf } from './accounts.js'

export const ALLOW_HINT = 'set network.allow_private_upstreams: true in config.yaml if this is your own reverse proxy'

const RANGE_NAMES: Record<string, string> = {
  loopback: 'loopback address (this machine)',
  linkLocal: 'link-local address (e.g. the cloud metadata service)',
  private: 'private network address',
  carrierGradeNat: 'carrier-grade NAT address',
  uniqueLocal: 'unique-local (private) IPv6 address',
  unspecified: 'unspecified address (this machine)',
}

/** A connection the guard refused; `code` is mapped by providers/shared/http.ts. */
export class EgressRefused extends Error {
  readonly code = 'ERR_EGRESS_REFUSED'
  constructor(readonly host: string, readonly address: string, readonly range: string) {
    super(`refused to connect to ${host === address ? address : `${host} (${address})`}, a ${RANGE_NAMES[range] ?? `${range} address`}; ${ALLOW_HINT}`)
    this.name = 'EgressRefused'
  }
}

/** The range of an address when it is not a public unicast one; undefined when it is public. */
export function privateRange(address: string): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6
  try {
    // process() turns an IPv4-mapped IPv6 address (::ffff:127.0.0.1) into the IPv4 address it maps.
    parsed = ipaddr.process(address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, ''))
  }
  catch {
    return 'invalid'
  }
  const range = parsed.range()
  return range === 'unicast' ? undefined : range
}

/** The host's addresses; throws EgressRefused when one of them is private. */
export async function resolvePublic(host: string): Promise<string[]> {
  const name = host.replace(/^\[(.*)\]$/, '$1')
  const addresses = isIP(name) ? [name] : (await lookup(name, { all: true, verbatim: true })).map(a => a.address)
  for (const address of addresses) {
    const range = privateRange(address)
    if (range)
      throw new EgressRefused(name, address, range)
  }
  return addresses
}

/** Like resolvePublic, but a name that does not resolve here passes (a proxy resolves it). */
export async function checkHost(host: string): Promise<void> {
  try {
    await resolvePublic(host)
  }
  catch (err) {
    if (err instanceof EgressRefused)
      throw err
  }
}

/** A connector that resolves, checks and connects to the checked address (TLS still names the host). */
export function guardConnector(inner: buildConnector.connector): buildConnector.connector {
  return (opts, callback) => {
    const name = opts.hostname.replace(/^\[(.*)\]$/, '$1')
    resolvePublic(name).then(
      ([address]) => inner({ ...opts, hostname: address!, servername: opts.servername ?? (isIP(name) ? undefined : name) }, callback),
      (err: Error) => callback(err, null),
    )
  }
}

/** At save time: why a URL's host may not be used (undefined when it may, or when it does not resolve). */
export async function privateHostProblem(url: string | undefined): Promise<string | undefined> {
  if (!url)
    return undefined
  let host: string
  try {
    host = new URL(url).hostname
  }
  catch {
    return undefined
  }
  try {
    await checkHost(host)
    return undefined
  }
  catch (err) {
    return (err as Error).message
  }
}

/** Where an upstream connects: its base URL, its session URL and its accounts' proxies. */
function urlsOf(u: UpstreamConfig): Array<[string, string]> {
  const out: Array<[string, string]> = []
  if (u.type === 'openai')
    out.push(['base URL', u.base_url ?? DEFAULT_OPENAI_BASE])
  if (u.type === 'chatgpt-web') {
    out.push(['base URL', u.base_url])
    if (u.session_token || u.accounts?.some(a => a.session_token))
      out.push(['session URL', sessionUrlOf(u)!])
  }
  for (const proxy of new Set(accountsOf(u).map(a => a.proxy).filter((p): p is string => !!p)))
    out.push(['proxy', proxy])
  return out
}

/**
 * At save time, for a list saved from the dashboard: refuses one that reaches a private address with
 * UPSTREAM_ADDRESS_PRIVATE, every problem in `details` (the proxy named by scheme, host and port only).
 */
export async function refusePrivateUpstreams(list: UpstreamConfig[]): Promise<void> {
  const problems: string[] = []
  for (const u of list) {
    for (const [what, url] of urlsOf(u)) {
      const problem = await privateHostProblem(url)
      if (problem)
        problems.push(`upstream ${u.id}: its ${what} ${what === 'proxy' ? 'host' : url}: ${problem}`)
    }
  }
  if (problems.length)
    throw new AppError('UPSTREAM_ADDRESS_PRIVATE', problems.join('; '), { details: problems })
}
