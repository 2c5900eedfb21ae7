import fp from 'fastify-plugin'
import { pruneAsks } from './retention.js'

const DAY_MS = 86_400_000

/** Prunes the ask log at start (after the crash sweep of the asks plugin) and then daily (retention.ts). */
export default fp(async (app) => {
  const days = app.config.logs.ask_retention_days
  if (days <= 0)
    return
  const run = async (): Promise<void> => {
    try {
      const deleted = await pruneAsks(app.db, app.now(), days)
      if (deleted)
        app.log.info({ deleted, retentionDays: days }, 'old asks pruned from the ask log')
    }
    catch (err) {
      app.log.error({ err }, 'pruning the ask log failed; it is tried again tomorrow')
    }
  }
  await run()
  const timer = setInterval(() => void run(), DAY_MS)
  timer.unref()
  app.addHook('onClose', async () => clearInterval(timer))
}, { name: 'ask-retention', dependencies: ['db', 'asks'] })
