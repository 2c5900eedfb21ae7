import type { UpstreamSettingsService } from './upstream-settings.js'
import fp from 'fastify-plugin'
import { compactDb } from '../../db/client.js'
import { droppedCredential } from '../upstreams/credentials.js'
import { refusePrivateUpstreams } from '../upstreams/egress-guard.js'
import { createSettingsRepository } from './settings.repository.js'
import { createUpstreamSettings } from './upstream-settings.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The upstreams in effect: the config's, or the list saved from the dashboard (hot-reloaded). */
    upstreamSettings: UpstreamSettingsService
  }
}

/** Loads the upstreams saved from the dashboard (if any) over the configured ones, before anyone asks. */
export default fp(async (app) => {
  const settings = createUpstreamSettings({
    repo: createSettingsRepository(app.db),
    upstreams: app.upstreams,
    config: app.config,
    logger: app.log.child({ module: 'settings' }),
    refusePrivate: app.config.network.allow_private_upstreams ? undefined : refusePrivateUpstreams,
    // A replaced or reverted credential must not linger in free pages or the WAL (issue #15 §4).
    afterWrite: async (before, after) => {
      if (droppedCredential(before, after))
        await compactDb(app.db)
    },
  })
  await settings.load()
  app.decorate('upstreamSettings', settings)
}, { name: 'settings', dependencies: ['db', 'upstreams', 'asks'] })
