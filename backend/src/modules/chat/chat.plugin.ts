import type { ChatService } from './chat.service.js'
import fp from 'fastify-plugin'
import { createChatRepository } from './chat.repository.js'
import { ChatService as Service } from './chat.service.js'
import { Checkpointer } from './checkpointer.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The chat engine: queues, running asks, stop. */
    chat: ChatService
  }
}

/**
 * The chat engine. At start-up, answers left `streaming` and asks left queued/running by a crash
 * become `interrupted` (partial text kept). On close, waiting asks leave the queue and running ones
 * are cut and stored before the database closes.
 */
export default fp(async (app) => {
  const repo = createChatRepository(app.db)
  const recovered = await repo.recoverInterrupted(app.now())
  if (recovered.messages || recovered.asks)
    app.log.warn(recovered, 'answers interrupted by the last shutdown marked as interrupted')
  const log = app.log.child({ module: 'chat' })
  const chat = new Service({
    repo,
    providers: app.providers,
    quotaGate: () => app.quotaGate,
    checkpointer: new Checkpointer(app.db, log),
    config: () => app.config.chat,
    logger: log,
    now: () => app.now(),
  })
  app.decorate('chat', chat)
  app.addHook('preClose', async () => {
    await chat.shutdown()
  })
}, { name: 'chat', dependencies: ['db', 'providers', 'quotas'] })
