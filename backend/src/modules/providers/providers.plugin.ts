import type { ProviderRegistry } from './registry.js'
import fp from 'fastify-plugin'
import { effectiveUpstreams } from '../../config/load.js'
import { createProviders } from './registry.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Upstream providers, by upstream id and by model key. */
    providers: ProviderRegistry
  }
}

/** Builds the providers of the configured upstreams (the demo upstream when none is configured). */
export default fp(async (app) => {
  const registry = createProviders(effectiveUpstreams(app.config), {
    logger: app.log.child({ module: 'providers' }),
    now: () => app.now(),
  })
  app.decorate('providers', registry)
  app.addHook('onClose', async () => {
    await registry.close()
  })
}, { name: 'providers' })
