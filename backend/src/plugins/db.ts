import type { Db } from '../db/client.js'
import fp from 'fastify-plugin'
import { dbFile, openDb, sqlOf } from '../db/client.js'
import { migrate } from '../db/migrate.js'
import { startWalCheckpointer } from '../db/wal-checkpointer.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Db
  }
}

/**
 * Migrates `<dataDir>/cws.db` to the committed schema, then opens Prisma on it; WAL checkpoints run
 * in a worker thread, off the event loop (db/wal-checkpointer.ts).
 */
export default fp(async (app, opts: { dataDir: string }) => {
  const file = dbFile(opts.dataDir)
  const { applied } = migrate(file)
  if (applied.length)
    app.log.info({ applied }, 'database migrated')
  const db = await openDb(opts.dataDir)
  app.decorate('db', db)
  const checkpointer = startWalCheckpointer(sqlOf(db).connection, file, {
    onError: err => app.log.warn({ err }, 'WAL checkpoints: the worker failed; SQLite checkpoints on its own again'),
  })
  app.addHook('onClose', async () => {
    await checkpointer.stop()
    await db.$disconnect()
  })
}, { name: 'db' })
