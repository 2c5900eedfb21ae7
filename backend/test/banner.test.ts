import type { ChildProcess } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import process from 'node:process'
import { afterEach, describe, expect, it } from 'vitest'
import { listeningBanner } from '../src/lib/banner.js'
import { tempDataDir } from './helper.js'

const backendDir = path.resolve(import.meta.dirname, '..')

/** The real server (src/server.ts under tsx), its stdout read until the banner shows. */
async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>(r => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as AddressInfo
  await new Promise(r => srv.close(r))
  return port
}

async function startServer(host: string): Promise<{ child: ChildProcess, dataDir: string, banner: Promise<string> }> {
  const port = await freePort()
  const dataDir = tempDataDir('cws-banner-')
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: backendDir,
    env: { PATH: process.env.PATH ?? '', CWS_DATA_DIR: dataDir, CWS_CONFIG: '', CWS_SERVER__HOST: host, CWS_SERVER__PORT: String(port), CWS_LOG__FILE: 'false', CWS_ADMIN__PASSWORD: 'banner-test-pass-1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const banner = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 30 s:\n${out}`)), 30_000)
    const read = (d: Buffer) => {
      out += d.toString()
      const line = out.split('\n').find(l => l.startsWith('ChatGPT Web Share listening on'))
      if (line) {
        clearTimeout(timer)
        resolve(line)
      }
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.once('exit', code => reject(new Error(`exited ${code}:\n${out}`)))
  })
  return { child, dataDir, banner }
}

describe('start banner', () => {
  const running: Array<{ child: ChildProcess, dataDir: string }> = []
  afterEach(async () => {
    for (const r of running.splice(0)) {
      if (r.child.exitCode === null) {
        const exited = new Promise(res => r.child.once('exit', res))
        r.child.kill('SIGTERM')
        await exited
      }
      rmSync(r.dataDir, { recursive: true, force: true })
    }
  })

  it('says that the default 0.0.0.0 is reachable from the network, and how to keep it local', async () => {
    const s = await startServer('0.0.0.0')
    running.push(s)
    expect(await s.banner).toMatch(/^ChatGPT Web Share listening on 0\.0\.0\.0:\d+ — reachable from your network; set server\.host: 127\.0\.0\.1 to keep it local$/)
  })

  it('says that 127.0.0.1 is only this machine', async () => {
    const s = await startServer('127.0.0.1')
    running.push(s)
    const line = await s.banner
    expect(line).toMatch(/^ChatGPT Web Share listening on 127\.0\.0\.1:(\d+) — only this machine$/)
    // The port it names is the one it listens on.
    const port = /:(\d+) /.exec(line)![1]
    expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(200)
  })

  it('names IPv6 and other addresses', () => {
    expect(listeningBanner('::', 8080)).toBe('listening on [::]:8080 — reachable from your network; set server.host: 127.0.0.1 to keep it local')
    expect(listeningBanner('::1', 8080)).toBe('listening on [::1]:8080 — only this machine')
    expect(listeningBanner('192.168.1.5', 8080)).toBe('listening on 192.168.1.5:8080 — reachable at that address')
  })
})
