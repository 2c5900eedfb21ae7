import { isIP } from 'node:net'

/** Addresses that listen on every interface. */
const ALL = new Set(['0.0.0.0', '::', '', '::0', '0:0:0:0:0:0:0:0'])
/** Addresses only this machine can reach. */
const LOCAL = new Set(['127.0.0.1', '::1', 'localhost'])

/**
 * The start-up line saying who can reach the server (issue #15 §4, "Binding"): by default it binds
 * every interface, which a member of the public network can reach too.
 */
export function listeningBanner(host: string, port: number): string {
  const shown = isIP(host) === 6 ? `[${host}]` : host || '0.0.0.0'
  if (ALL.has(host))
    return `listening on ${shown}:${port} — reachable from your network; set server.host: 127.0.0.1 to keep it local`
  if (LOCAL.has(host) || host.startsWith('127.'))
    return `listening on ${shown}:${port} — only this machine`
  return `listening on ${shown}:${port} — reachable at that address`
}
