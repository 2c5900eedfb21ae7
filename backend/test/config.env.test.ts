import { describe, expect, it } from 'vitest'
import { applyEnvOverrides, parseConfig } from '../src/config/load.js'

describe('whole-section env overrides', () => {
  it('takes CWS_UPSTREAMS as JSON, with single-key overrides applied on top', () => {
    const config = parseConfig(applyEnvOverrides({ upstreams: [] }, {
      CWS_UPSTREAMS__0__API_KEY: 'sk-from-env',
      CWS_UPSTREAMS: '[{"id":"api","type":"openai","models":[{"key":"m","name":"M","slug":"m-1"}]}]',
    }))
    expect(config.upstreams).toHaveLength(1)
    expect(config.upstreams[0]).toMatchObject({ id: 'api', type: 'openai', api_key: 'sk-from-env' })
  })

  it('ignores CWS_ variables that are not sections (CWS_CONFIG, CWS_DATA_DIR)', () => {
    const raw = applyEnvOverrides({}, { CWS_CONFIG: '/x.yaml', CWS_DATA_DIR: '/data', CWS_SKIP_BROWSER_TESTS: '1' })
    expect(raw).toEqual({})
  })

  it('treats empty values as unset (an .env line `CWS_UPSTREAMS=` changes nothing)', () => {
    const config = parseConfig(applyEnvOverrides({ server: { port: 9001 } }, { CWS_UPSTREAMS: '', CWS_SERVER__PORT: '', CWS_UPSTREAMS__0__API_KEY: '' }))
    expect(config.upstreams).toEqual([])
    expect(config.server.port).toBe(9001)
  })

  it('names the key when a JSON section is malformed', () => {
    expect(() => parseConfig(applyEnvOverrides({}, { CWS_UPSTREAMS: '[{"id":"x","type":"nope"}]' })))
      .toThrow(/upstreams\[0\]/)
  })
})
