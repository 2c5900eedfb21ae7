import type { TestApp } from './helper.js'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readPragmas } from '../src/db/client.js'
import { buildTestApp, tempDataDir } from './helper.js'

describe('health, SPA fallback and JSON 404', () => {
  let t: TestApp
  const web = tempDataDir('cws-web-')
  beforeAll(async () => {
    mkdirSync(path.join(web, 'assets'))
    writeFileSync(path.join(web, 'index.html'), '<!doctype html><div id="app"></div>')
    writeFileSync(path.join(web, 'assets', 'index-abc123.js'), 'console.log(1)')
    t = await buildTestApp({}, { webDir: web })
  })
  afterAll(() => t.close())

  it('answers /api/health with version, uptime and db state', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/health' })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ status: 'ok', db: 'ok' })
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(typeof body.uptimeSeconds).toBe('number')
  })

  it('runs SQLite in WAL mode with busy_timeout, foreign keys and in-memory temp storage', async () => {
    const p = await readPragmas(t.app.db)
    expect(p.journalMode.toLowerCase()).toBe('wal')
    expect(p.busyTimeout).toBeGreaterThanOrEqual(5000)
    expect(p.foreignKeys).toBe(1)
    expect(p.tempStore).toBe(2) // MEMORY: savepoint journals never go to a temp file
  })

  it('serves index.html with no-store for unknown app paths (history fallback)', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/c/some-conversation?x=1' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/text\/html/)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.body).toContain('<div id="app">')
  })

  it('caches hashed assets for a year', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/assets/index-abc123.js' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['cache-control']).toContain('max-age=31536000')
    expect(res.headers['cache-control']).toContain('immutable')
  })

  it('answers unknown /api paths with a JSON 404, not the SPA', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/nope' })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ code: 'NOT_FOUND' })
    expect(res.json().reqId).toBeTruthy()
  })

  it('answers a missing asset with 404 instead of the SPA', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/assets/missing-123.js' })
    expect(res.statusCode).toBe(404)
  })
})
