/**
 * An upstream URL that passes the schema's `^https?://` but does not parse (found by the fuzz suite:
 * the dashboard's save answered 500) is refused as a configuration problem, from the config file
 * and from the dashboard alike.
 */
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../src/config/load.js'
import { ADMIN, buildTestApp, injectAs, loginAs } from './helper.js'

const models = [{ key: 'm', name: 'M', slug: 'm' }]

describe('upstream URLs', () => {
  it('the config file: a base_url that is not a URL is a ConfigError naming it', () => {
    let err: unknown
    try {
      parseConfig({ upstreams: [{ id: 'a', type: 'openai', base_url: 'https://Y uBD[_', api_key: 'sk-x', models }] })
    }
    catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).problems.join('\n')).toContain('upstreams[0].base_url: "https://Y uBD[_" is not a valid URL')
  })

  it('the dashboard: saving one answers 400 VALIDATION_FAILED and changes nothing', async () => {
    const t = await buildTestApp()
    try {
      const admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
      const before = await injectAs(t.app, admin, { method: 'GET', url: '/api/admin/settings/upstreams' })
      const res = await injectAs(t.app, admin, {
        method: 'PUT',
        url: '/api/admin/settings/upstreams',
        payload: { upstreams: [{ id: 'web', type: 'chatgpt-web', baseUrl: 'https://=gvFBQ[yC', credential: 'token-x', models }] },
      })
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('is not a valid URL') })
      expect((await injectAs(t.app, admin, { method: 'GET', url: '/api/admin/settings/upstreams' })).json()).toEqual(before.json())
    }
    finally {
      await t.close()
    }
  })
})
