import type { TSchema } from '@sinclair/typebox'
import type { ValueError } from '@sinclair/typebox/value'
import type { Config, UpstreamConfig } from './schema.js'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { Kind } from '@sinclair/typebox'
import { Value, ValueErrorType } from '@sinclair/typebox/value'
import YAML from 'yaml'
import { proxyUrlProblem } from '../modules/upstreams/proxy.js'
import { ConfigSchema } from './schema.js'

/** A configuration problem the operator must fix; printed without a stack trace. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map(p => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

export interface LoadedConfig {
  config: Config
  /** Where the file was looked for, and whether it existed. */
  source: { path: string, found: boolean }
  dataDir: string
}

export const DEMO_UPSTREAM: UpstreamConfig = {
  id: 'demo',
  type: 'demo',
  concurrency: 2,
  speed: 400,
  first_token_ms: 400,
  models: [{ key: 'demo', name: 'Demo (offline)', slug: 'demo' }],
}

type Plain = Record<string, unknown>

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Applies `CWS_<SECTION>__<KEY>` (and `PORT`/`HOST`) onto the parsed file. Array indices are numbers. */
export function applyEnvOverrides(raw: Plain, env: NodeJS.ProcessEnv): Plain {
  const out: Plain = structuredClone(raw)
  const set = (keys: string[], value: unknown): void => {
    let node: any = out
    keys.forEach((k, i) => {
      const last = i === keys.length - 1
      const key: string | number = /^\d+$/.test(k) ? Number(k) : k
      if (last) {
        node[key] = value
        return
      }
      if (node[key] === undefined || node[key] === null || typeof node[key] !== 'object')
        node[key] = /^\d+$/.test(keys[i + 1]!) ? [] : {}
      node = node[key]
    })
  }
  // An empty value counts as unset (Compose passes `KEY=` lines of an .env file as empty strings).
  const vars = Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '' && e[0].startsWith('CWS_'))
  // First whole sections as JSON (CWS_UPSTREAMS='[{"id":"demo","type":"demo"}]'), then single keys on top.
  for (const [name, value] of vars) {
    const section = name.slice(4).toLowerCase()
    if (!name.includes('__') && section in ConfigSchema.properties)
      set([section], parseEnvValue(value))
  }
  for (const [name, value] of vars) {
    if (!name.includes('__'))
      continue
    const keys = name.slice(4).split('__').map(k => k.toLowerCase())
    if (keys.some(k => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype'))
      continue
    set(keys, parseEnvValue(value))
  }
  if (env.PORT)
    set(['server', 'port'], parseEnvValue(env.PORT))
  if (env.HOST)
    set(['server', 'host'], env.HOST)
  return out
}

/** Env values are strings; JSON-looking values (arrays, objects) are parsed, the rest converted by the schema. */
function parseEnvValue(v: string): unknown {
  const t = v.trim()
  if ((t.startsWith('[') && t.endsWith(']')) || (t.startsWith('{') && t.endsWith('}'))) {
    try {
      return JSON.parse(t)
    }
    catch {
      return v
    }
  }
  return v
}

function describe(schema: TSchema): string {
  if (schema.anyOf) {
    const lits = (schema.anyOf as TSchema[]).filter(s => s.const !== undefined).map(s => JSON.stringify(s.const))
    if (lits.length === (schema.anyOf as TSchema[]).length)
      return `one of ${lits.join(', ')}`
    return 'one of the documented shapes'
  }
  if (schema.const !== undefined)
    return JSON.stringify(schema.const)
  const type = schema.type as string | undefined
  if (type === 'integer' || type === 'number') {
    const { minimum: min, maximum: max } = schema
    if (min !== undefined && max !== undefined)
      return `${type} ${min}-${max}`
    if (min !== undefined)
      return `${type} >= ${min}`
    return type
  }
  if (type === 'string') {
    const parts: string[] = []
    if (schema.minLength)
      parts.push(`at least ${schema.minLength} characters`)
    if (schema.maxLength)
      parts.push(`at most ${schema.maxLength} characters`)
    if (schema.pattern)
      parts.push(`matching ${schema.pattern}`)
    return parts.length ? `string (${parts.join(', ')})` : 'string'
  }
  if (type === 'boolean')
    return 'true or false'
  if (type === 'array')
    return 'a list'
  if (type === 'object')
    return 'a mapping'
  return String(schema[Kind] ?? 'a valid value')
}

function keyPath(p: string): string {
  return p.split('/').filter(Boolean).map(s => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('').replace(/^\./, '') || '(root)'
}

const SECRET_KEYS = new Set(['jwt_secret', 'password', 'access_token', 'api_key', 'session_token'])

function formatError(e: ValueError): string {
  const where = keyPath(e.path)
  if (e.type === ValueErrorType.ObjectAdditionalProperties) {
    const parts = e.path.split('/')
    const key = parts.pop() ?? ''
    return `${keyPath(parts.join('/'))}: unknown key ${JSON.stringify(key)}`
  }
  if (e.value === undefined)
    return `${where}: required, expected ${describe(e.schema)}`
  // Never echo a secret back to the console.
  const got = SECRET_KEYS.has(e.path.split('/').pop() ?? '') && typeof e.value === 'string'
    ? `a value of ${e.value.length} characters`
    : JSON.stringify(e.value).replace(/\/\/[^/@"\s]*@/g, '//***@') // a proxy URL's user:password
  return `${where}: expected ${describe(e.schema)}, got ${got}`
}

/**
 * The errors of `value` against `schema`. A union member is picked by its `type` literal, so an
 * upstream with a wrong key is reported as that key (never by printing the whole upstream, which
 * would put its secret on the console).
 */
function* configErrors(schema: TSchema, value: unknown, prefix = ''): Generator<ValueError> {
  for (const e of Value.Errors(schema, value)) {
    const path = prefix + e.path
    if (e.type !== ValueErrorType.Union) {
      yield { ...e, path }
      continue
    }
    const members = (e.schema.anyOf ?? []) as TSchema[]
    const type = isPlain(e.value) ? e.value.type : undefined
    const member = members.find(m => m.properties?.type?.const !== undefined && m.properties.type.const === type)
    if (member) {
      yield* configErrors(member, e.value, path)
      continue
    }
    const types = members.map(m => m.properties?.type?.const).filter(t => t !== undefined)
    if (types.length)
      yield { ...e, path: `${path}/type`, value: type, schema: { anyOf: types.map(t => ({ const: t })) } as unknown as TSchema }
    else
      yield { ...e, path }
  }
}

/** Validates a raw object (file + env) and fills defaults. Throws ConfigError naming every bad key. */
export function parseConfig(raw: unknown): Config {
  if (raw !== undefined && raw !== null && !isPlain(raw))
    throw new ConfigError(['(root): expected a mapping of sections (server, auth, upstreams, ...)'])
  let value: unknown = Value.Default(ConfigSchema, structuredClone(raw ?? {}))
  value = Value.Convert(ConfigSchema, value)
  const problems: string[] = []
  const seen = new Set<string>()
  for (const e of configErrors(ConfigSchema, value)) {
    // Union members each report; keep the most specific message per path.
    const msg = formatError(e)
    const key = keyPath(e.path)
    if (seen.has(key))
      continue
    seen.add(key)
    problems.push(msg)
  }
  if (problems.length)
    throw new ConfigError(problems)
  const config = value as Config
  checkUpstreams(config)
  return config
}

function checkUpstreams(config: Config): void {
  const problems: string[] = []
  const ids = new Set<string>()
  const keys = new Set<string>()
  config.upstreams.forEach((u, i) => {
    if (ids.has(u.id))
      problems.push(`upstreams[${i}].id: "${u.id}" is used twice`)
    ids.add(u.id)
    if (!u.models?.length)
      problems.push(`upstreams[${i}].models: expected at least one model`)
    for (const [j, m] of (u.models ?? []).entries()) {
      if (keys.has(m.key))
        problems.push(`upstreams[${i}].models[${j}].key: "${m.key}" is used by another model (keys are unique across upstreams)`)
      keys.add(m.key)
    }
    // The schema checks the scheme only; a URL that does not parse would fail every ask (and the dashboard's save).
    for (const key of ['base_url', 'session_url'] as const) {
      const url = (u as Partial<Record<typeof key, string>>)[key]
      if (url !== undefined && !URL.canParse(url))
        problems.push(`upstreams[${i}].${key}: "${url}" is not a valid URL (e.g. https://chatgpt.example.com/backend-api/)`)
    }
    const proxies: Array<[string, string | undefined]> = [[`upstreams[${i}].proxy`, u.proxy], ...(u.accounts ?? []).map((a, j): [string, string | undefined] => [`upstreams[${i}].accounts[${j}].proxy`, a.proxy])]
    for (const [key, url] of proxies) {
      const problem = url === undefined ? undefined : proxyUrlProblem(url)
      if (problem)
        problems.push(`${key}: ${problem}`)
    }
    if (u.accounts?.length) {
      const accountIds = new Set<string>()
      u.accounts.forEach((a, j) => {
        const at = `upstreams[${i}].accounts[${j}]`
        if (accountIds.has(a.id))
          problems.push(`${at}.id: "${a.id}" is used twice in this upstream`)
        accountIds.add(a.id)
        if (u.type === 'chatgpt-web' && !a.access_token && !a.session_token)
          problems.push(`${at}.access_token: required for type chatgpt-web, or a session_token (or set CWS_UPSTREAMS__${i}__ACCOUNTS__${j}__ACCESS_TOKEN)`)
        if (u.type === 'openai' && !a.api_key)
          problems.push(`${at}.api_key: required for type openai (or set CWS_UPSTREAMS__${i}__ACCOUNTS__${j}__API_KEY)`)
        for (const model of Object.keys(a.caps ?? {})) {
          if (!(u.models ?? []).some(m => m.key === model))
            problems.push(`${at}.caps.${model}: not a model key of this upstream`)
        }
      })
    }
    else if (u.type === 'chatgpt-web' && !u.access_token && !u.session_token) {
      problems.push(`upstreams[${i}].access_token: required for type chatgpt-web, or a session_token (or set CWS_UPSTREAMS__${i}__ACCESS_TOKEN)`)
    }
    else if (u.type === 'openai' && !u.api_key) {
      problems.push(`upstreams[${i}].api_key: required for type openai (or set CWS_UPSTREAMS__${i}__API_KEY)`)
    }
  })
  config.upstreams.forEach((u, i) => {
    for (const [j, m] of (u.models ?? []).entries()) {
      if (m.fallback && (m.fallback === m.key || !keys.has(m.fallback)))
        problems.push(`upstreams[${i}].models[${j}].fallback: "${m.fallback}" is not another configured model key`)
    }
  })
  try {
    Intl.DateTimeFormat('en-US', { timeZone: config.limits.timezone })
  }
  catch {
    problems.push(`limits.timezone: expected an IANA time zone such as "Asia/Shanghai", got ${JSON.stringify(config.limits.timezone)}`)
  }
  if (problems.length)
    throw new ConfigError(problems)
}

/** The upstreams in effect: the configured ones, or the demo upstream when none is configured. */
export function effectiveUpstreams(config: Config): UpstreamConfig[] {
  return withUpstreamDefaults(config.upstreams)
}

/** `list` with every default filled in; the demo upstream when `list` is empty. */
export function withUpstreamDefaults(upstreams: UpstreamConfig[]): UpstreamConfig[] {
  const list = upstreams.length ? upstreams : [DEMO_UPSTREAM]
  return list.map(u => ({
    ...u,
    concurrency: u.concurrency ?? (u.type === 'chatgpt-web' ? 1 : u.type === 'openai' ? 4 : 2),
    timeout_seconds: u.timeout_seconds ?? 30,
    idle_timeout_seconds: u.idle_timeout_seconds ?? 120,
  }))
}

/** Reads `CWS_CONFIG` (default ./config.yaml; absent = defaults), applies env overrides, validates. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LoadedConfig {
  const file = path.resolve(cwd, env.CWS_CONFIG || './config.yaml')
  let raw: Plain = {}
  const found = existsSync(file)
  if (found) {
    let parsed: unknown
    try {
      parsed = YAML.parse(readFileSync(file, 'utf8'))
    }
    catch (err) {
      throw new ConfigError([`${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`])
    }
    if (parsed !== null && parsed !== undefined && !isPlain(parsed))
      throw new ConfigError([`${file}: expected a mapping of sections at the top level`])
    raw = (parsed ?? {}) as Plain
  }
  else if (env.CWS_CONFIG) {
    throw new ConfigError([`CWS_CONFIG: file not found: ${file}`])
  }
  const config = parseConfig(applyEnvOverrides(raw, env))
  const dataDir = path.resolve(cwd, env.CWS_DATA_DIR || './data')
  return { config, source: { path: file, found }, dataDir }
}
