import type { Upstreams } from './upstreams.service.js'
import fp from 'fastify-plugin'
import { effectiveUpstreams } from '../../config/load.js'
import { AccountAlerts } from './alerts.js'
import { accountDispatcher } from './proxy.js'
import { createUpstreamsRepository } from './upstreams.repository.js'
import { createUpstreams } from './upstreams.service.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The upstreams in effect, their accounts, pools and queues (docs/architecture.md, "Upstreams and accounts"). */
    upstreams: Upstreams
    /** Changes of the accounts' states: the dashboard's banner and the webhook. */
    upstreamAlerts: AccountAlerts
  }
}

/** The upstreams of the configuration (the demo upstream when none is configured). */
export default fp(async (app) => {
  const cfg = app.config.chat
  const repo = createUpstreamsRepository(app.db)
  await repo.loadTokens()
  const upstreams = createUpstreams(effectiveUpstreams(app.config), {
    tokens: { stored: key => repo.storedTokens(key), save: (key, t) => repo.saveTokens(key, t) },
    logger: app.log.child({ module: 'upstreams' }),
    now: () => app.now(),
    maxDepth: () => cfg.queue_max_depth,
    maxWaitSeconds: () => cfg.queue_max_wait_seconds,
    dispatcherFor: accountDispatcher,
    guardDashboard: !app.config.network.allow_private_upstreams,
  })
  // What the accounts' caps counted before a restart still counts.
  for (const pool of upstreams.pools()) {
    for (const account of pool.accounts) {
      const caps = Object.entries(account.config.caps ?? {})
      if (!caps.length)
        continue
      const hours = Math.max(...caps.map(([, c]) => c.hours))
      const usage = await repo.capUsage(pool.id, account.id, new Date(app.now().getTime() - hours * 3600_000))
      for (const [model, starts] of usage) account.restoreUsage(model, starts)
    }
  }
  const alerts = new AccountAlerts({
    pools: () => upstreams.pools(),
    webhookUrl: app.config.alerts.webhook_url,
    warningDays: app.config.alerts.expiry_warning_days,
    now: () => app.now(),
    logger: app.log.child({ module: 'alerts' }),
  })
  alerts.start()
  app.decorate('upstreams', upstreams)
  app.decorate('upstreamAlerts', alerts)
  app.addHook('onClose', async () => {
    await alerts.stop()
    await upstreams.close()
  })
}, { name: 'upstreams', dependencies: ['db'] })
