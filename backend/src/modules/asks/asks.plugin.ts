import type { Admission } from './admission.js'
import type { AsksRepository } from './asks.repository.js'
import fp from 'fastify-plugin'
import { sqlOf } from '../../db/client.js'
import { createAdmission } from './admission.js'
import { createAsksRepository } from './asks.repository.js'
import { Checkpointer } from './checkpointer.js'
import { settleCutAsks } from './recovery.js'
import { createRecoveryRepository } from './recovery.repository.js'
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
 * queued/running by a crash become `interrupted` (partial text kept); once the app is ready, the
 * answers a restart cut are recovered from the upstream (ChatGPT web) or refunded (recovery.ts).
 * On close, every ask is cut and stored (as `interrupted`, its text flushed) before the database closes.
 */
export default fp(async (app) => {
  const repo = createAsksRepository(app.db)
  const recovery = createRecoveryRepository(app.db)
  const cut = await recovery.markCut(app.now())
  if (cut.messages || cut.asks)
    app.log.warn(cut, 'answers interrupted by the last shutdown marked as interrupted')
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
  // In the background once ready: reading answers back from an upstream must not hold up the start.
  const closing = new AbortController()
  let settling: Promise<unknown> = Promise.resolve()
  app.addHook('onReady', async () => {
    settling = settleCutAsks({
      repo: recovery,
      providerOf: (upstreamId, accountId) => app.upstreams.provider(upstreamId, accountId),
      refundCommitted: id => app.quotaGate.refundCommitted(id),
      logger: log,
      now: () => app.now(),
      signal: closing.signal,
    }).catch(err => log.error({ err }, 'recovery of cut answers failed'))
  })
  app.addHook('preClose', async () => {
    closing.abort()
    await registry.shutdown()
    await checkpointer.stop()
    await settling
  })
}, { name: 'asks', dependencies: ['db', 'auth', 'upstreams', 'quotas'] })
