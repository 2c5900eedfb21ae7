/**
 * Writes the next migration from the difference between the committed migrations and schema.prisma:
 *   pnpm --filter @cws/backend db:migration add_something
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import process from 'node:process'
import { diffMigrationsToSchema, migrationsDir } from './schema-engine.js'

const name = (process.argv[2] ?? '').replace(/\W+/g, '_').toLowerCase()
if (!name) {
  console.error('usage: pnpm db:migration <name>')
  process.exit(2)
}
const sql = await diffMigrationsToSchema()
if (!sql.trim()) {
  console.log('schema.prisma matches the committed migrations; nothing to write.')
  process.exit(0)
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
const dir = path.join(migrationsDir, `${stamp}_${name}`)
mkdirSync(dir, { recursive: true })
writeFileSync(path.join(dir, 'migration.sql'), sql)
console.log(`wrote ${path.relative(process.cwd(), dir)}/migration.sql`)
