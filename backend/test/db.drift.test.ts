import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { diffMigrationsToSchema, schemaFile } from '../scripts/schema-engine.js'
import { migrate, MIGRATIONS_DIR } from '../src/db/migrate.js'
import { tempDataDir } from './helper.js'

describe('committed migrations', () => {
  const dir = tempDataDir('cws-migrate-')
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('produce exactly the schema in schema.prisma (no drift)', async () => {
    const sql = await diffMigrationsToSchema()
    expect(sql.trim(), `schema.prisma differs from the migrations; run \`pnpm --filter @cws/backend db:migration <name>\`:\n${sql}`).toBe('')
  }, 60_000)

  it('notices when schema.prisma gains a field the migrations lack', async () => {
    const schema = readFileSync(schemaFile, 'utf8').replace('model Setting {', 'model Setting {\n  driftProbe String?')
    const sql = await diffMigrationsToSchema(schema)
    expect(sql).toMatch(/driftProbe/)
  }, 60_000)

  it('apply once on a fresh database and are recorded, then are a no-op', () => {
    const file = path.join(dir, 'cws.db')
    const first = migrate(file, MIGRATIONS_DIR)
    expect(first.applied.length).toBe(first.total)
    expect(first.total).toBeGreaterThan(0)
    const second = migrate(file, MIGRATIONS_DIR)
    expect(second.applied).toEqual([])
    const db = new Database(file, { readonly: true })
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type='table'`).all() as { name: string }[]).map(t => t.name)
    const recorded = db.prepare('SELECT COUNT(*) AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL').get() as { n: number }
    db.close()
    expect(tables).toEqual(expect.arrayContaining(['User', 'Session', 'Setting', 'Conversation', 'Message', 'Ask']))
    expect(recorded.n).toBe(first.total)
  })
})
