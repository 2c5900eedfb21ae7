import type { UpstreamSetting } from '@cws/backend/contracts'
import { describe, expect, it } from 'vitest'
import { accountIdState, blankUpstream, changeType, credentialState, fromSetting, serverProblems, toInput, validateList, validateUpstream } from './upstreamsDraft'
import { useUpstreamsDraft } from './upstreamsState'

const web: UpstreamSetting = {
  id: 'web',
  type: 'chatgpt-web',
  baseUrl: 'https://proxy.example/backend-api',
  concurrency: 1,
  timeoutSeconds: 30,
  idleTimeoutSeconds: 120,
  models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }],
  credentialSet: true,
  accountIdSet: true,
  sessionTokenSet: false,
  accounts: [],
  proxy: null,
  pacing: null,
  capShare: null,
}
const api: UpstreamSetting = {
  id: 'api',
  type: 'openai',
  baseUrl: 'https://api.openai.com/v1',
  concurrency: 4,
  timeoutSeconds: 30,
  idleTimeoutSeconds: 120,
  models: [{ key: 'mini', name: 'Mini', slug: 'gpt-4o-mini' }],
  credentialSet: true,
  accountIdSet: false,
  sessionTokenSet: false,
  accounts: [],
  proxy: null,
  pacing: null,
  capShare: null,
}
const demo: UpstreamSetting = {
  id: 'demo',
  type: 'demo',
  baseUrl: null,
  concurrency: 2,
  timeoutSeconds: 30,
  idleTimeoutSeconds: 120,
  speed: 400,
  firstTokenMs: 400,
  models: [{ key: 'demo', name: 'Demo', slug: 'demo' }],
  credentialSet: false,
  accountIdSet: false,
  sessionTokenSet: false,
  accounts: [],
  proxy: null,
  pacing: null,
  capShare: null,
}
const saved = [web, api, demo]
const keys = (problems: Array<{ field: string, key: string }>) => problems.map(p => `${p.field}:${p.key}`)

describe('upstreams draft', () => {
  it('sends a saved upstream back without credentials (the server keeps them) and with only its type\'s fields', () => {
    expect(toInput(fromSetting(web))).toEqual({
      id: 'web',
      type: 'chatgpt-web',
      baseUrl: 'https://proxy.example/backend-api',
      concurrency: 1,
      timeoutSeconds: 30,
      idleTimeoutSeconds: 120,
      models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }],
      accounts: [],
      pacing: null,
      capShare: null,
    })
    expect(toInput(fromSetting(demo))).toEqual({ id: 'demo', type: 'demo', concurrency: 2, timeoutSeconds: 30, idleTimeoutSeconds: 120, speed: 400, firstTokenMs: 400, models: [{ key: 'demo', name: 'Demo', slug: 'demo' }] })
  })

  it('sends a typed credential and account id trimmed; removing the account id sends null', () => {
    const d = fromSetting(web)
    d.credential = '  eyJ-new-token '
    d.removeAccountId = true
    expect(toInput(d)).toMatchObject({ credential: 'eyJ-new-token', accountId: null })
    d.accountId = ' acc-2 '
    expect(toInput(d).accountId).toBe('acc-2')
    // An OpenAI upstream never sends an account id, nor an empty base URL (the server's default applies).
    const o = fromSetting(api)
    o.baseUrl = ''
    o.accountId = 'x'
    expect(toInput(o)).not.toHaveProperty('accountId')
    expect(toInput(o)).not.toHaveProperty('baseUrl')
  })

  it('knows when a credential is kept, new or missing (a new id or a new type has none to keep)', () => {
    const d = fromSetting(web)
    expect(credentialState(d, saved)).toBe('set')
    expect(accountIdState(d, saved)).toBe('set')
    d.removeAccountId = true
    expect(accountIdState(d, saved)).toBe('removed')
    d.id = 'web2'
    expect(credentialState(d, saved)).toBe('missing')
    expect(accountIdState(d, saved)).toBe('none')
    d.id = 'web'
    changeType(d, 'openai')
    expect(credentialState(d, saved)).toBe('missing')
    expect(d.concurrency).toBe(4) // was the chatgpt-web default, follows the new type
    d.credential = 'sk-x'
    expect(credentialState(d, saved)).toBe('new')
    expect(credentialState(fromSetting(demo), saved)).toBe('none')
  })

  it('validates a new upstream: id, base URL, credential, ranges and models, each on its field', () => {
    const d = blankUpstream('chatgpt-web')
    expect(keys(validateUpstream(d, [], saved))).toEqual([
      'id:required',
      'baseUrl:required',
      'credential:credentialRequired',
      'models.0.key:required',
      'models.0.name:required',
      'models.0.slug:required',
    ])
    d.id = 'Web Two'
    d.baseUrl = 'ftp://x'
    d.credential = 'tok'
    d.concurrency = 65
    d.timeoutSeconds = null
    d.idleTimeoutSeconds = 1.5
    d.models = [{ key: 'has space', name: 'N', slug: 's' }]
    expect(keys(validateUpstream(d, [], saved))).toEqual([
      'id:idFormat',
      'baseUrl:urlFormat',
      'concurrency:range',
      'timeoutSeconds:required',
      'idleTimeoutSeconds:range',
      'models.0.key:keyFormat',
    ])
    expect(validateUpstream(d, [], saved).find(p => p.field === 'concurrency')?.params).toEqual({ min: 1, max: 64 })
    d.models = []
    expect(keys(validateUpstream(d, [], saved))).toContain('models:modelsRequired')
  })

  it('refuses an id or a model key another upstream uses, and a key twice in one upstream', () => {
    const others = saved.map(fromSetting)
    const d = blankUpstream('demo')
    d.id = 'api'
    d.models = [{ key: 'fast', name: 'Fast', slug: 'demo' }, { key: 'fast', name: 'Again', slug: 'demo' }, { key: 'mini', name: 'Mini', slug: 'demo' }]
    const problems = validateUpstream(d, others, saved)
    expect(keys(problems)).toEqual(['id:idTaken', 'models.1.key:keyTwice', 'models.2.key:keyTaken'])
    expect(problems[2]!.params).toEqual({ key: 'mini', upstream: 'api' })
    // A demo upstream needs no base URL nor credential, but its speed must be in range.
    d.id = 'demo2'
    d.models = [{ key: 'fast', name: 'Fast', slug: 'demo' }]
    d.speed = 0
    expect(keys(validateUpstream(d, others, saved))).toEqual(['speed:range'])
  })

  it('checks the whole list, reporting a clash on the later upstream only', () => {
    const list = saved.map(fromSetting)
    const copy = fromSetting(api)
    list.push(copy)
    const problems = validateList(list, saved)
    expect([...problems.keys()]).toEqual([copy.uid])
    expect(keys(problems.get(copy.uid)!)).toEqual(['id:idTaken', 'models.0.key:keyTaken'])
  })

  it('tracks changes: added, edited, moved, removed; a reset starts over from the server\'s list', () => {
    const s = useUpstreamsDraft()
    s.reset(saved)
    expect(s.dirty.value).toBe(false)
    const [w, a] = s.draft.value
    s.move(a!.uid, -1)
    expect(s.draft.value.map(d => d.id)).toEqual(['api', 'web', 'demo'])
    expect(s.dirty.value).toBe(true)
    s.move(a!.uid, 1)
    expect(s.dirty.value).toBe(false)
    s.move(w!.uid, -1) // already first: nothing moves
    expect(s.draft.value.map(d => d.id)).toEqual(['web', 'api', 'demo'])

    const edited = { ...fromSetting(api), uid: a!.uid, concurrency: 8 }
    s.upsert(edited)
    expect(s.changed(s.draft.value[1]!)).toBe(true)
    expect(s.changed(s.draft.value[0]!)).toBe(false)
    expect(s.body.value.upstreams[1]!.concurrency).toBe(8)

    const extra = blankUpstream('demo')
    extra.id = 'fast'
    extra.models = [{ key: 'fast', name: 'Fast', slug: 'demo' }]
    s.upsert(extra)
    s.remove(w!.uid)
    expect(s.draft.value.map(d => d.id)).toEqual(['api', 'demo', 'fast'])
    expect(s.removed.value).toEqual(['web'])
    expect(s.problems.value.size).toBe(0)

    s.reset(saved)
    expect(s.dirty.value).toBe(false)
    expect(s.removed.value).toEqual([])
  })

  it('reads the server\'s problems and ties each to the upstream it names', () => {
    const sent = saved.map(fromSetting)
    expect(serverProblems([
      'upstreams[1] (api): an API key is required',
      'upstreams[2].models[0].key: "gpt" is used by another model (keys are unique across upstreams)',
      { path: '/upstreams/0/baseUrl', message: 'must match pattern "^https?://"' },
      'something else',
    ], sent)).toEqual([
      { text: 'upstreams[1] (api): an API key is required', uid: sent[1]!.uid },
      { text: 'upstreams[2].models[0].key: "gpt" is used by another model (keys are unique across upstreams)', uid: sent[2]!.uid },
      { text: '/upstreams/0/baseUrl must match pattern "^https?://"', uid: sent[0]!.uid },
      { text: 'something else', uid: null },
    ])
    expect(serverProblems(undefined, sent)).toEqual([])
  })
})
