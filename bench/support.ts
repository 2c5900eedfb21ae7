/**
 * What the benches share: undici from the backend's dependencies, one keep-alive dispatcher, a free
 * port, waiting for a server, JSON requests, percentiles, and a process's CPU time and RSS.
 */
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const backendDir = fileURLToPath(new URL('../backend/', import.meta.url))
export const backendRequire = createRequire(path.join(backendDir, 'package.json'))
export const undici = backendRequire('undici') as typeof import('undici')

export const dispatcher = new undici.Agent({ connections: null, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 120_000, bodyTimeout: 300_000 })

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>(r => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as AddressInfo
  await new Promise(r => srv.close(r))
  return port
}

export async function waitUp(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      const res = await undici.request(url, { dispatcher })
      await res.body.dump()
      if (res.statusCode < 500)
        return
    }
    catch {}
    await new Promise(r => setTimeout(r, 100))
  }
  throw new Error(`${url} did not come up`)
}

export async function json(method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown, token?: string): Promise<{ status: number, body: any, headers: Record<string, unknown> }> {
  const res = await undici.request(url, {
    method,
    dispatcher,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  })
  const text = await res.body.text()
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined, headers: res.headers }
}

export function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!
}

/** CPU time of a process so far, in ms. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 // utime, stime in clock ticks (USER_HZ = 100)
}

export function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
}
