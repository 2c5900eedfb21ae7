import type { TSchema } from '@sinclair/typebox'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { ConfigError, loadConfig, parseConfig } from '../src/config/load.js'
import { ChatgptWebUpstream, ConfigSchema, DemoUpstream, OpenaiUpstream } from '../src/config/schema.js'
import { tempDataDir } from './helper.js'

const backendDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const examplePath = path.resolve(backendDir, '../config.example.yaml')
const example = readFileSync(examplePath, 'utf8')

/** The commented upstream examples after `upstreams: []`, uncommented. */
function exampleUpstreams(): unknown {
  const lines = example.split('\n')
  const at = lines.findIndex(l => /^upstreams: \[\]/.test(l))
  expect(at, 'config.example.yaml has an `upstreams: []` line followed by commented examples').toBeGreaterThan(0)
  const block = lines.slice(at + 1).filter(l => l.trim() !== '')
  expect(block.every(l => l.startsWith('#'))).toBe(true)
  return YAML.parse(block.map(l => l.replace(/^# ?/, '')).join('\n'))
}

/** Every property path of an object schema: ['server', 'server.port', ...]; arrays and unions not entered. */
function objectPaths(schema: TSchema, prefix = ''): string[] {
  const out: string[] = []
  for (const [key, sub] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
    const p = prefix ? `${prefix}.${key}` : key
    out.push(p)
    if (sub.type === 'object')
      out.push(...objectPaths(sub, p))
  }
  return out
}

function get(obj: unknown, p: string): unknown {
  return p.split('.').reduce<any>((o, k) => (o === undefined || o === null ? undefined : o[k]), obj)
}

function load(env: Record<string, string>, file?: string) {
  const dir = tempDataDir('cws-config-')
  const e: Record<string, string> = { ...env }
  if (file !== undefined) {
    writeFileSync(path.join(dir, 'config.yaml'), file)
    e.CWS_CONFIG = path.join(dir, 'config.yaml')
  }
  return loadConfig(e, dir)
}

function problems(fn: () => unknown): string[] {
  try {
    fn()
  }
  catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as ConfigError).problems
  }
  throw new Error('expected a ConfigError')
}

describe('config.example.yaml', () => {
  it('mentions every key of the schema, upstream keys included', () => {
    const keys = new Set<string>()
    const collect = (s: TSchema): void => {
      for (const [k, sub] of Object.entries((s.properties ?? {}) as Record<string, TSchema>)) {
        keys.add(k)
        collect(sub)
        if (sub.items)
          collect(sub.items as TSchema)
        for (const m of (sub.anyOf ?? []) as TSchema[]) collect(m)
        for (const m of ((sub.items as TSchema | undefined)?.anyOf ?? []) as TSchema[]) collect(m)
      }
    }
    collect(ConfigSchema)
    expect(keys.size).toBeGreaterThan(30)
    const missing = [...keys].filter(k => !new RegExp(`(^|[\\s{,#-])${k}:`, 'm').test(example))
    expect(missing, `keys missing from config.example.yaml`).toEqual([])
  })

  it('parses with parseConfig, and its uncommented values are exactly the defaults', () => {
    const raw = YAML.parse(example)
    expect(parseConfig(raw)).toEqual(parseConfig({}))
    // Every key that has a default is written out (so the example states each default).
    const defaults = parseConfig({})
    const unwritten = objectPaths(ConfigSchema).filter(p => get(defaults, p) !== undefined && get(raw, p) === undefined)
    expect(unwritten).toEqual([])
  })

  it('has a valid commented example for each upstream type, using every key of that type', () => {
    const parsed = exampleUpstreams() as { upstreams: Record<string, unknown>[] }
    const config = parseConfig(parsed)
    expect(config.upstreams.map(u => u.type)).toEqual(['chatgpt-web', 'openai', 'demo'])
    const byType = { 'chatgpt-web': ChatgptWebUpstream, 'openai': OpenaiUpstream, 'demo': DemoUpstream }
    for (const [type, schema] of Object.entries(byType)) {
      const examples = parsed.upstreams.filter(u => u.type === type)
      const documented = new Set(examples.flatMap(u => Object.keys(u)))
      // `concurrency`, `timeout_seconds`, ... may be shown on one type only; type-specific keys must be shown on theirs.
      const common = new Set(['concurrency', 'timeout_seconds', 'idle_timeout_seconds', 'accounts', 'proxy', 'pacing', 'cap_share'])
      const missing = Object.keys(schema.properties).filter(k => !documented.has(k) && !common.has(k))
      expect(missing, `${type} example lacks`).toEqual([])
    }
    for (const k of ['concurrency', 'timeout_seconds', 'idle_timeout_seconds', 'accounts', 'proxy', 'pacing', 'cap_share'])
      expect(parsed.upstreams.some(u => k in u), k).toBe(true)
  })
})

describe('config loader', () => {
  it('uses the defaults when the default file is absent', () => {
    const dir = tempDataDir('cws-config-')
    const loaded = loadConfig({}, dir)
    expect(loaded.source).toEqual({ path: path.join(dir, 'config.yaml'), found: false })
    expect(loaded.config).toEqual(parseConfig({}))
    expect(loaded.config.server).toMatchObject({ host: '0.0.0.0', port: 8080 })
    expect(loaded.config.upstreams).toEqual([])
    expect(loaded.dataDir).toBe(path.join(dir, 'data'))
  })

  it('refuses a CWS_CONFIG that points at a missing file', () => {
    expect(problems(() => loadConfig({ CWS_CONFIG: '/nonexistent/cws.yaml' }, '/tmp'))[0]).toMatch(/CWS_CONFIG: file not found/)
  })

  it('reads the file and lets CWS_<SECTION>__<KEY> override it, converting types', () => {
    const { config, source } = load({ CWS_SERVER__PORT: '9001', CWS_SERVER__TRUST_PROXY: 'true', CWS_LOG__LEVEL: 'debug' }, 'server:\n  port: 9000\n  host: 127.0.0.1\nlog:\n  level: warn\n  file: false\n')
    expect(source.found).toBe(true)
    expect(config.server).toMatchObject({ port: 9001, host: '127.0.0.1', trust_proxy: true })
    expect(config.log).toMatchObject({ level: 'debug', file: false })
  })

  it('takes an upstream secret from CWS_UPSTREAMS__0__API_KEY', () => {
    const file = 'upstreams:\n  - id: openai\n    type: openai\n    models:\n      - { key: m, name: M, slug: m }\n  - id: web\n    type: chatgpt-web\n    base_url: http://proxy/backend-api/\n    models:\n      - { key: w, name: W, slug: w }\n'
    expect(problems(() => load({}, file))).toEqual([
      'upstreams[0].api_key: required for type openai (or set CWS_UPSTREAMS__0__API_KEY)',
      'upstreams[1].access_token: required for type chatgpt-web, or a session_token (or set CWS_UPSTREAMS__1__ACCESS_TOKEN)',
    ])
    const { config } = load({ CWS_UPSTREAMS__0__API_KEY: 'sk-test', CWS_UPSTREAMS__1__ACCESS_TOKEN: 'eyJtest' }, file)
    expect(config.upstreams[0]).toMatchObject({ id: 'openai', type: 'openai', api_key: 'sk-test', base_url: 'https://api.openai.com/v1' })
    expect(config.upstreams[1]).toMatchObject({ id: 'web', access_token: 'eyJtest' })
  })

  it('can declare a whole upstream from the environment (lists as JSON)', () => {
    const { config } = load({
      CWS_UPSTREAMS__0__ID: 'openai',
      CWS_UPSTREAMS__0__TYPE: 'openai',
      CWS_UPSTREAMS__0__API_KEY: 'sk-x',
      CWS_UPSTREAMS__0__MODELS: '[{"key":"gpt-4.1-mini","name":"GPT-4.1 mini","slug":"gpt-4.1-mini"}]',
    })
    expect(config.upstreams).toHaveLength(1)
    expect(config.upstreams[0]!.models).toEqual([{ key: 'gpt-4.1-mini', name: 'GPT-4.1 mini', slug: 'gpt-4.1-mini' }])
  })

  it('honours PORT and HOST', () => {
    const { config } = load({ PORT: '3000', HOST: '127.0.0.1' }, 'server:\n  port: 9000\n')
    expect(config.server).toMatchObject({ port: 3000, host: '127.0.0.1' })
  })

  it('names the key, what was expected and what it got', () => {
    expect(problems(() => load({ CWS_SERVER__PORT: 'abc' }))).toEqual(['server.port: expected integer 1-65535, got "abc"'])
    expect(problems(() => load({}, 'server:\n  port: 70000\n'))).toEqual(['server.port: expected integer 1-65535, got 70000'])
    expect(problems(() => load({}, 'log:\n  level: loud\n'))[0]).toMatch(/^log\.level: expected one of "fatal", "error", .*got "loud"$/)
    expect(problems(() => load({}, 'upstreams:\n  - id: x\n    type: nope\n'))).toEqual(['upstreams[0].type: expected one of "chatgpt-web", "openai", "demo", got "nope"'])
  })

  it('reports unknown keys by name, at the top level, in a section and in an upstream', () => {
    expect(problems(() => load({}, 'sever:\n  port: 1\n'))).toEqual(['(root): unknown key "sever"'])
    expect(problems(() => load({ CWS_SERVER__PROT: '1' }))).toEqual(['server: unknown key "prot"'])
    expect(problems(() => load({}, 'upstreams:\n  - { id: d, type: demo, speeed: 3, models: [{ key: d, name: D, slug: d }] }\n'))).toEqual(['upstreams[0]: unknown key "speeed"'])
  })

  it('never echoes a secret in an error', () => {
    const msgs = problems(() => load({ CWS_AUTH__JWT_SECRET: 'too-short-secret', CWS_ADMIN__PASSWORD: 'short' })).join('\n')
    expect(msgs).toMatch(/auth\.jwt_secret: .*got a value of 16 characters/)
    expect(msgs).toMatch(/admin\.password: .*got a value of 5 characters/)
    expect(msgs).not.toMatch(/too-short-secret|short"/)
    const upstream = problems(() => load({}, 'upstreams:\n  - { id: o, type: openai, api_key: sk-very-secret, base_url: ftp://x, models: [{ key: o, name: O, slug: o }] }\n')).join('\n')
    expect(upstream).toMatch(/upstreams\[0\]\.base_url/)
    expect(upstream).not.toContain('sk-very-secret')
  })

  it('rejects a file that is not YAML, or not a mapping', () => {
    expect(problems(() => load({}, 'server: [\n'))[0]).toMatch(/not valid YAML/)
    expect(problems(() => load({}, '- a\n- b\n'))[0]).toMatch(/expected a mapping of sections/)
  })
})

describe('server start-up with a bad configuration', () => {
  const start = (env: Record<string, string>) => spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: backendDir,
    env: { PATH: process.env.PATH ?? '', CWS_DATA_DIR: tempDataDir('cws-bad-'), ...env },
    encoding: 'utf8',
    timeout: 30_000,
  })

  it('exits non-zero with the message and no stack trace', () => {
    const r = start({ CWS_SERVER__PORT: 'abc' })
    expect(r.status).not.toBe(0)
    expect(r.status).not.toBeNull()
    expect(r.stderr).toContain('server.port: expected integer 1-65535, got "abc"')
    expect(r.stderr).toMatch(/Fix the configuration/)
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at /m)
    expect(r.stdout).not.toMatch(/Server listening/)
  })

  it('does the same for a missing CWS_CONFIG file', () => {
    const r = start({ CWS_CONFIG: path.join(tempDataDir('cws-bad-'), 'nope.yaml') })
    expect(r.status).not.toBe(0)
    expect(r.stderr).toMatch(/CWS_CONFIG: file not found/)
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at /m)
  })
})
