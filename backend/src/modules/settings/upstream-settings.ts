/**
 * Upstreams saved from the admin dashboard, hot-reloaded.
 *
 * Source of truth: the config file / environment (`upstreams`), unless the admin saved a list in the
 * dashboard; that list (in the Setting table, in the config's own snake_case form, credentials
 * included, like the config file in the data dir) then replaces the configured one, across restarts,
 * until the admin reverts to the config. Everything the config says about an upstream is editable
 * (accounts, proxy, pacing, caps, fallbacks, cap sharing). Credentials are write-only: the API only
 * says whether one is set (`upstream-view.ts`), and a save without one keeps what the upstream — or
 * the account — with that id has, unless the base URL moved to another origin (`upstream-input.ts`).
 *
 * Applying a list: providers whose upstream is unchanged are kept (with their health); changed ones
 * are rebuilt (running answers finish on the old connection pool); the asks waiting for a removed
 * upstream end with UPSTREAM_UNAVAILABLE; a changed `concurrency` applies to the waiting asks at once.
 */
import type { Config, UpstreamConfig } from '../../config/schema.js'
import type { SaveUpstreamsBody, UpstreamSettings } from '../../contracts/settings.js'
import type { Upstreams } from '../upstreams/upstreams.service.js'
import type { SettingsRepository } from './settings.repository.js'
import { ConfigError, parseConfig, withUpstreamDefaults } from '../../config/load.js'
import { AppError } from '../../lib/errors.js'
import { toConfig } from './upstream-input.js'
import { upstreamView } from './upstream-view.js'

export const UPSTREAMS_SETTING_KEY = 'upstreams'

export interface UpstreamSettingsDeps {
  repo: SettingsRepository
  /** Reloading applies a list everywhere: accounts, pools and their queues (modules/upstreams). */
  upstreams: Pick<Upstreams, 'reload' | 'list'>
  config: Config
  logger: { info: (obj: object, msg?: string) => void, error: (obj: object, msg?: string) => void }
  /** Refuses a list that reaches private addresses (modules/upstreams/egress-guard.ts); unset when allowed. */
  refusePrivate?: (list: UpstreamConfig[]) => Promise<void>
  /** After a write replaced the list in effect: the DB is compacted when a credential was dropped (db/client.ts `compactDb`). */
  afterWrite?: (before: UpstreamConfig[], after: UpstreamConfig[]) => Promise<void>
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

  function apply(list: UpstreamConfig[], from: 'config' | 'dashboard' = 'dashboard'): void {
    const effective = withUpstreamDefaults(list)
    upstreams.reload(effective, { source: from })
  }

  function current(): UpstreamSettings {
    return { source, updatedAt: updatedAt?.toISOString() ?? null, upstreams: upstreams.list().map(upstreamView) }
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
      await deps.refusePrivate?.(list)
      updatedAt = await repo.write(UPSTREAMS_SETTING_KEY, list)
      source = 'dashboard'
      apply(list)
      await deps.afterWrite?.([...inEffect.values()], list)
      deps.logger.info({ upstreams: list.map(u => u.id) }, 'upstreams saved from the admin dashboard and applied')
      return current()
    },

    /** Back to the config file / environment. */
    async revert(): Promise<UpstreamSettings> {
      const before = upstreams.list()
      await repo.remove(UPSTREAMS_SETTING_KEY)
      source = 'config'
      updatedAt = null
      apply(config.upstreams, 'config')
      await deps.afterWrite?.(before, config.upstreams)
      deps.logger.info({}, 'upstreams reverted to the config file')
      return current()
    },
  }
}

export type UpstreamSettingsService = ReturnType<typeof createUpstreamSettings>
