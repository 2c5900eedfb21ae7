/**
 * Upstreams saved from the admin dashboard, hot-reloaded.
 *
 * Source of truth: the config file / environment (`upstreams`), unless the admin saved a list in the
 * dashboard; that list (in the Setting table, in the config's own snake_case form, credentials
 * included, like the config file in the data dir) then replaces the configured one, across restarts,
 * until the admin reverts to the config. Credentials are write-only: the API only says whether one
 * is set, and a save without one keeps what the upstream with that id has.
 *
 * Applying a list: providers whose upstream is unchanged are kept (with their health); changed ones
 * are rebuilt (running answers finish on the old connection pool); the asks waiting for a removed
 * upstream end with UPSTREAM_UNAVAILABLE; a changed `concurrency` applies to the waiting asks at once.
 */
import type { Config, UpstreamConfig } from '../../config/schema.js'
import type { SaveUpstreamsBody, UpstreamSetting, UpstreamSettingInput, UpstreamSettings } from '../../contracts/settings.js'
import type { Upstreams } from '../upstreams/upstreams.service.js'
import type { SettingsRepository } from './settings.repository.js'
import { ConfigError, parseConfig, withUpstreamDefaults } from '../../config/load.js'
import { AppError } from '../../lib/errors.js'
import { DEFAULT_OPENAI_BASE } from '../providers/openai/openai.provider.js'

export const UPSTREAMS_SETTING_KEY = 'upstreams'

export interface UpstreamSettingsDeps {
  repo: SettingsRepository
  /** Reloading applies a list everywhere: accounts, pools and their queues (modules/upstreams). */
  upstreams: Pick<Upstreams, 'reload' | 'list'>
  config: Config
  logger: { info: (obj: object, msg?: string) => void, error: (obj: object, msg?: string) => void }
}

function view(u: UpstreamConfig): UpstreamSetting {
  const base = {
    id: u.id,
    type: u.type,
    concurrency: u.concurrency ?? 1,
    timeoutSeconds: u.timeout_seconds ?? 30,
    idleTimeoutSeconds: u.idle_timeout_seconds ?? 120,
    models: (u.models ?? []).map(m => ({ key: m.key, name: m.name, slug: m.slug })),
  }
  switch (u.type) {
    case 'chatgpt-web':
      return { ...base, baseUrl: u.base_url, credentialSet: !!u.access_token || !!u.session_token || !!u.accounts?.length, accountIdSet: !!u.account_id }
    case 'openai':
      return { ...base, baseUrl: u.base_url ?? DEFAULT_OPENAI_BASE, credentialSet: !!u.api_key || !!u.accounts?.length, accountIdSet: false }
    case 'demo':
      return { ...base, baseUrl: null, speed: u.speed, firstTokenMs: u.first_token_ms, credentialSet: false, accountIdSet: false }
  }
}

/** The config form of one input, with the credentials of the upstream it replaces when none is given. */
function toConfig(input: UpstreamSettingInput, current: UpstreamConfig | undefined, index: number, problems: string[]): Record<string, unknown> {
  const common: Record<string, unknown> = {
    id: input.id,
    type: input.type,
    concurrency: input.concurrency,
    timeout_seconds: input.timeoutSeconds,
    idle_timeout_seconds: input.idleTimeoutSeconds,
    models: input.models,
  }
  const where = `upstreams[${index}] (${input.id})`
  const kept = current?.type === input.type ? current : undefined
  // A stored credential never follows the upstream to another host: a new origin needs it entered again.
  const moved = !!kept && 'base_url' in kept && originOf(kept.base_url ?? DEFAULT_OPENAI_BASE) !== originOf(input.baseUrl ?? DEFAULT_OPENAI_BASE)
  const same = moved ? undefined : kept
  if (moved && kept?.accounts?.length)
    problems.push(`${where}: its accounts hold credentials, which never follow a new base URL host; change the base URL in the config file, or remove this upstream and add it again`)
  const credential = input.credential?.trim() || undefined
  // What the dashboard does not edit (accounts, proxy, pacing, a session token) stays as it was.
  const untouched = same ? { accounts: same.accounts, proxy: same.proxy, pacing: same.pacing } : {}
  switch (input.type) {
    case 'chatgpt-web': {
      const web = same?.type === 'chatgpt-web' ? same : undefined
      const token = credential ?? web?.access_token
      if (!token && !web?.accounts?.length && !web?.session_token)
        problems.push(`${where}: ${moved ? 'the base URL moved to another host, so enter the access token again' : 'an access token is required'}`)
      const accountId = input.accountId === null ? undefined : input.accountId ?? web?.account_id
      return { ...common, ...untouched, base_url: input.baseUrl, access_token: token, account_id: accountId, session_token: credential ? undefined : web?.session_token, session_url: web?.session_url }
    }
    case 'openai': {
      const api = same?.type === 'openai' ? same : undefined
      const key = credential ?? api?.api_key
      if (!key && !api?.accounts?.length)
        problems.push(`${where}: ${moved ? 'the base URL moved to another host, so enter the API key again' : 'an API key is required'}`)
      return { ...common, ...untouched, base_url: input.baseUrl, api_key: key }
    }
    case 'demo':
      return { ...common, speed: input.speed, first_token_ms: input.firstTokenMs }
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin
  }
  catch {
    return url
  }
}

/** Validates a list in config form exactly as the config file is validated. */
function validate(raw: unknown[], config: Config): UpstreamConfig[] {
  try {
    return parseConfig({ ...structuredClone(config), upstreams: raw }).upstreams
  }
  catch (err) {
    if (err instanceof ConfigError)
      throw new AppError('VALIDATION_FAILED', err.problems.join('; '), { details: err.problems })
    throw err
  }
}

export function createUpstreamSettings(deps: UpstreamSettingsDeps) {
  const { repo, upstreams, config } = deps
  let source: UpstreamSettings['source'] = 'config'
  let updatedAt: Date | null = null

  function apply(list: UpstreamConfig[]): void {
    const effective = withUpstreamDefaults(list)
    upstreams.reload(effective)
  }

  function current(): UpstreamSettings {
    return { source, updatedAt: updatedAt?.toISOString() ?? null, upstreams: upstreams.list().map(view) }
  }

  return {
    /** At start-up: the dashboard's list when one was saved and is still valid, else the config's. */
    async load(): Promise<void> {
      const stored = await repo.read(UPSTREAMS_SETTING_KEY)
      if (!stored)
        return
      try {
        if (!Array.isArray(stored.value))
          throw new AppError('VALIDATION_FAILED', 'not a list')
        const list = validate(stored.value, config)
        source = 'dashboard'
        updatedAt = stored.updatedAt
        apply(list)
        deps.logger.info({ upstreams: list.map(u => u.id) }, 'using the upstreams saved from the admin dashboard')
      }
      catch (err) {
        deps.logger.error({ problems: (err as AppError).details?.details ?? (err as Error).message }, 'the upstreams saved from the admin dashboard are not valid any more; using the config file\'s')
      }
    },

    current,

    async save(body: SaveUpstreamsBody): Promise<UpstreamSettings> {
      const inEffect = new Map(upstreams.list().map(u => [u.id, u]))
      const problems: string[] = []
      const raw = body.upstreams.map((u, i) => toConfig(u, inEffect.get(u.id), i, problems))
      let list: UpstreamConfig[] = []
      try {
        list = validate(raw, config)
      }
      catch (err) {
        if (!(err instanceof AppError))
          throw err
        // Missing credentials are reported above, without the config file's environment hint.
        problems.push(...(err.details?.details as string[]).filter(p => !/\.(?:access_token|api_key): required/.test(p)))
      }
      if (problems.length)
        throw new AppError('VALIDATION_FAILED', problems.join('; '), { details: problems })
      updatedAt = await repo.write(UPSTREAMS_SETTING_KEY, list)
      source = 'dashboard'
      apply(list)
      deps.logger.info({ upstreams: list.map(u => u.id) }, 'upstreams saved from the admin dashboard and applied')
      return current()
    },

    /** Back to the config file / environment. */
    async revert(): Promise<UpstreamSettings> {
      await repo.remove(UPSTREAMS_SETTING_KEY)
      source = 'config'
      updatedAt = null
      apply(config.upstreams)
      deps.logger.info({}, 'upstreams reverted to the config file')
      return current()
    },
  }
}

export type UpstreamSettingsService = ReturnType<typeof createUpstreamSettings>
