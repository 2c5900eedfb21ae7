import type { Admission } from './admission.js'
import type { AsksRepository } from './asks.repository.js'
import fp from 'fastify-plugin'
import { sqlOf } from '../../db/client.js'
import { createAdmission } from './admission.js'
import { createAsksRepository } from './asks.repository.js'
import { Checkpointer } from './checkpointer.js'
import { RunRegistry } from './run-registry.js'

/** The ask pipeline, as the routes and other modules use it. */
export interface Asks {
  /** Validates, plans, reserves, stores and starts an ask. */
  admission: Admission
  /** The asks alive in this process: attach, stop, stop a conversation's. */
  registry: RunRegistry
  repo: AsksRepository
}

declare module 'fastify' {
  interface FastifyInstance {
    asks: Asks
  }
}

/**
 * The ask pipeline (docs/architecture.md). At start-up, answers left `streaming` and asks left
 * queued/running by a crash become `interrupted` (partial text kept). On close, every ask is cut
 * and stored (as `interrupted`) before the database closes.
 */
export default fp(async (app) => {
  const repo = createAsksRepository(app.db)
  const recovered = await repo.recoverInterrupted(app.now())
  if (recovered.messages || recovered.asks)
    app.log.warn(recovered, 'answers interrupted by the last shutdown marked as interrupted')
  const log = app.log.child({ module: 'asks' })
  const cfg = app.config.chat
  const checkpointer = new Checkpointer(repo, log)
  const registry = new RunRegistry({ graceSeconds: () => cfg.detached_grace_seconds })
  const admission = createAdmission({
    sql: sqlOf(app.db),
    repo,
    quota: app.quotaGate,
    upstreams: app.upstreams,
    registry,
    runDeps: { repo, quota: app.quotaGate, checkpointer, logger: log, now: () => app.now(), graceSeconds: () => cfg.detached_grace_seconds },
    config: () => cfg,
    now: () => app.now(),
  })
  app.decorate('asks', { admission, registry, repo })
  // A member disabled or deleted by the admin: their asks stop (a logout only closes the streams).
  app.liveStreams.onChange((c) => {
    if (c.type === 'disabled' || c.type === 'deleted')
      registry.stopUser(c.userId)
  })
  app.addHook('preClose', async () => {
    await registry.shutdown()
    await checkpointer.stop()
  })
}, { name: 'asks', dependencies: ['db', 'auth', 'upstreams', 'quotas'] })
