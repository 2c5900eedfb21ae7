import type { Upstreams } from './upstreams.service.js'
import fp from 'fastify-plugin'
import { effectiveUpstreams } from '../../config/load.js'
import { createUpstreams } from './upstreams.service.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The upstreams in effect, their accounts, pools and queues (docs/architecture.md, "Upstreams and accounts"). */
    upstreams: Upstreams
  }
}

/** The upstreams of the configuration (the demo upstream when none is configured). */
export default fp(async (app) => {
  const cfg = app.config.chat
  const upstreams = createUpstreams(effectiveUpstreams(app.config), {
    logger: app.log.child({ module: 'upstreams' }),
    now: () => app.now(),
    maxDepth: () => cfg.queue_max_depth,
    maxWaitSeconds: () => cfg.queue_max_wait_seconds,
  })
  app.decorate('upstreams', upstreams)
  app.addHook('onClose', async () => {
    await upstreams.close()
  })
}, { name: 'upstreams' })
