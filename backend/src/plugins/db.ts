import type { Db } from '../db/client.js'
import fp from 'fastify-plugin'
import { dbFile, openDb } from '../db/client.js'
import { migrate } from '../db/migrate.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Db
  }
}

/** Migrates `<dataDir>/cws.db` to the committed schema, then opens Prisma on it. */
export default fp(async (app, opts: { dataDir: string }) => {
  const file = dbFile(opts.dataDir)
  const { applied } = migrate(file)
  if (applied.length)
    app.log.info({ applied }, 'database migrated')
  const db = await openDb(opts.dataDir)
  app.decorate('db', db)
  app.addHook('onClose', async () => {
    await db.$disconnect()
  })
}, { name: 'db' })
