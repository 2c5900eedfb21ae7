import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import routePolicy, { routeSchemaProblems } from '../src/plugins/route-policy.js'
import { buildTestApp } from './helper.js'

describe('route schema policy', () => {
  it('the whole app starts: every /api route declares its schemas', async () => {
    const t = await buildTestApp()
    await t.close()
  }, 30_000)

  it('refuses to start with an /api route that has no response schema', async () => {
    const app = Fastify()
    await app.register(routePolicy)
    expect(() => app.get('/api/leaky', async () => ({ passwordHash: 'x' }))).toThrow(/GET \/api\/leaky: no response schema/)
    await app.close()
  })

  it('names missing params and body schemas, and leaves non-API routes alone', () => {
    expect(routeSchemaProblems({ method: 'PATCH', url: '/api/things/:id', schema: { response: { 200: {} } } }))
      .toEqual(['PATCH /api/things/:id: has path parameters but no params schema', 'PATCH /api/things/:id: takes a body but declares no body schema'])
    expect(routeSchemaProblems({ method: 'GET', url: '/assets/x.js' })).toEqual([])
  })
})
