import type { UpstreamSetting } from '@cws/backend/contracts'
import { describe, expect, it } from 'vitest'
import { blankAccount, nextAccountId } from './accountsDraft'
import { credentialState, fromSetting, movedOrigin, problemKey, toInput, validateUpstream } from './upstreamsDraft'

const web: UpstreamSetting = {
  id: 'web',
  type: 'chatgpt-web',
  baseUrl: 'https://proxy.example/backend-api',
  concurrency: 1,
  timeoutSeconds: 30,
  idleTimeoutSeconds: 120,
  models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o', fallback: 'mini' }, { key: 'mini', name: 'Mini', slug: 'gpt-4o-mini' }],
  credentialSet: false,
  accountIdSet: false,
  sessionTokenSet: false,
  proxy: 'http://10.0.0.1:3128',
  pacing: { minGapSeconds: 2 },
  capShare: { mode: 'weight', belowPercent: 30 },
  accounts: [
    { id: 'a1', credentialSet: true, sessionTokenSet: true, accountIdSet: true, concurrency: 2, proxy: 'socks5://10.0.0.2:1080', enabled: true, caps: { 'gpt-4o': { asks: 80, hours: 3 } }, pacing: { perMinute: 4 } },
    { id: 'a2', credentialSet: true, sessionTokenSet: false, accountIdSet: false, concurrency: null, proxy: null, enabled: false, caps: {}, pacing: null },
  ],
}
const keys = (problems: Array<{ field: string, key: string }>) => problems.map(p => `${p.field}:${p.key}`)

describe('accounts draft', () => {
  it('sends a saved pool back with its settings but no write-only value (the server keeps them)', () => {
    expect(toInput(fromSetting(web))).toEqual({
      id: 'web',
      type: 'chatgpt-web',
      baseUrl: 'https://proxy.example/backend-api',
      concurrency: 1,
      timeoutSeconds: 30,
      idleTimeoutSeconds: 120,
      models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o', fallback: 'mini' }, { key: 'mini', name: 'Mini', slug: 'gpt-4o-mini' }],
      accounts: [
        { id: 'a1', enabled: true, concurrency: 2, caps: { 'gpt-4o': { asks: 80, hours: 3 } }, pacing: { perMinute: 4 } },
        { id: 'a2', enabled: false },
      ],
      pacing: { minGapSeconds: 2 },
      capShare: { mode: 'weight', belowPercent: 30 },
    })
  })

  it('sends what was typed, trimmed, and null for what is to be removed', () => {
    const d = fromSetting(web)
    const [a1, a2] = d.pool.accounts
    a1!.credential = ' eyJ-new '
    a1!.removeSessionToken = true
    a1!.removeProxy = true
    a2!.sessionToken = ' sess '
    a2!.accountId = 'team-1'
    a2!.proxy = 'http://u:p@10.0.0.3:8080'
    d.pool.removeProxy = true
    d.pool.pacing = { minGapSeconds: null, perMinute: null, jitterSeconds: null }
    d.pool.capShare = { mode: 'default', belowPercent: 25 }
    const input = toInput(d)
    expect(input.accounts).toEqual([
      { id: 'a1', enabled: true, credential: 'eyJ-new', sessionToken: null, concurrency: 2, proxy: null, caps: { 'gpt-4o': { asks: 80, hours: 3 } }, pacing: { perMinute: 4 } },
      { id: 'a2', enabled: false, sessionToken: 'sess', accountId: 'team-1', proxy: 'http://u:p@10.0.0.3:8080' },
    ])
    expect(input).toMatchObject({ proxy: null, pacing: null, capShare: null })
  })

  it('a new account needs its credential (a session token will do on ChatGPT web); a saved one keeps it', () => {
    const d = fromSetting(web)
    d.pool.accounts.push(blankAccount(nextAccountId(d.pool.accounts)))
    expect(d.pool.accounts[2]!.id).toBe('a3')
    expect(keys(validateUpstream(d, [], [web]))).toEqual(['accounts.2.credential:accounts.problems.accountCredential'])
    d.pool.accounts[2]!.sessionToken = 'sess'
    expect(validateUpstream(d, [], [web])).toEqual([])
    // With accounts, the upstream's own credential is not needed.
    expect(credentialState(d, [web])).toBe('pooled')
    const api = fromSetting({ ...web, id: 'api', type: 'openai', baseUrl: 'https://api.openai.com/v1', models: [{ key: 'k', name: 'K', slug: 'k' }] })
    api.pool.accounts.push(blankAccount('new'))
    expect(keys(validateUpstream(api, [], [])).filter(k => k.includes('credential'))).toEqual(['accounts.0.credential:accounts.problems.accountKey', 'accounts.1.credential:accounts.problems.accountKey', 'accounts.2.credential:accounts.problems.accountKey'])
  })

  it('a base URL on another origin keeps nothing: every credential must be typed again, and says so', () => {
    const d = fromSetting(web)
    d.baseUrl = 'https://proxy.example:8443/backend-api'
    expect(movedOrigin(d, [web])).toBe(true)
    const problems = validateUpstream(d, [], [web])
    expect(keys(problems)).toEqual(['accounts.0.credential:accounts.problems.movedCredential', 'accounts.1.credential:accounts.problems.movedCredential'])
    expect(problemKey(problems[0]!)).toBe('admin.accounts.problems.movedCredential')
    d.pool.accounts.forEach((a, i) => (a.credential = `token-${i}`))
    expect(validateUpstream(d, [], [web])).toEqual([])
    // Another path on the same origin keeps everything.
    const same = fromSetting(web)
    same.baseUrl = 'https://proxy.example/other/backend-api'
    expect(movedOrigin(same, [web])).toBe(false)
    expect(validateUpstream(same, [], [web])).toEqual([])
  })

  it('checks ids, proxies, numbers and fallbacks on their fields', () => {
    const d = fromSetting(web)
    d.pool.accounts[1]!.id = 'a1'
    d.pool.accounts[0]!.proxy = 'ftp://x'
    d.pool.accounts[0]!.caps[0]!.asks = null
    d.pool.accounts[0]!.pacing.perMinute = 0
    d.pool.proxy = 'proxy.example:3128'
    d.pool.capShare = { mode: 'equal', belowPercent: 0 }
    d.models[0]!.fallback = 'gpt-4o'
    expect(keys(validateUpstream(d, [], [web])).sort()).toEqual([
      'accounts.0.caps.0.asks:upstreams.problems.required',
      'accounts.0.pacing.perMinute:accounts.problems.number',
      'accounts.0.proxy:accounts.problems.proxyFormat',
      'accounts.1.id:accounts.problems.accountIdTaken',
      'capShare.belowPercent:accounts.problems.number',
      'models.0.fallback:accounts.problems.fallbackSelf',
      'proxy:accounts.problems.proxyFormat',
    ])
  })
})
