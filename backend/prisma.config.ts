import path from 'node:path'
import process from 'node:process'
import { defineConfig } from 'prisma/config'

// `prisma generate` checks that a schema engine binary exists even though it never runs one; on
// machines that cannot download it, any existing file satisfies the check.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath

export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  datasource: { url: `file:${path.resolve(process.env.CWS_DATA_DIR ?? '../data', 'cws.db')}` },
})
