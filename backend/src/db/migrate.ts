import { createHash, randomUUID } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { ensurePrivateDir, ensurePrivateFile } from '../lib/private-files.js'

/** The committed migrations, beside the compiled or source tree: backend/prisma/migrations. */
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../prisma/migrations')

export interface MigrationResult { applied: string[], total: number }

/**
 * Applies every committed `migration.sql` not yet recorded, in name order, each in its own
 * transaction, and records it in Prisma's `_prisma_migrations` table. A migration whose file changed
 * after it was applied stops the start-up: that is a packaging mistake, not something to guess about.
 */
export function migrate(dbFile: string, dir = MIGRATIONS_DIR): MigrationResult {
  // The data dir 0700, the database and its -wal/-shm 0600 (lib/private-files.ts).
  ensurePrivateDir(path.dirname(dbFile))
  ensurePrivateFile(dbFile, { create: true })
  for (const suffix of ['-wal', '-shm'])
    ensurePrivateFile(`${dbFile}${suffix}`)
  const db = new Database(dbFile, { timeout: 10_000 })
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('foreign_keys = OFF')
    db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" TEXT PRIMARY KEY NOT NULL,
      "checksum" TEXT NOT NULL,
      "finished_at" DATETIME,
      "migration_name" TEXT NOT NULL,
      "logs" TEXT,
      "rolled_back_at" DATETIME,
      "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
      "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
    )`)
    const done = new Map<string, string>(
      (db.prepare('SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL').all() as { migration_name: string, checksum: string }[])
        .map(r => [r.migration_name, r.checksum]),
    )
    const names = existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true }).filter(d => d.isDirectory() && existsSync(path.join(dir, d.name, 'migration.sql'))).map(d => d.name).sort()
      : []
    const applied: string[] = []
    for (const name of names) {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8')
      const checksum = createHash('sha256').update(sql).digest('hex')
      const prior = done.get(name)
      if (prior !== undefined) {
        if (prior !== checksum)
          throw new Error(`migration ${name} was changed after it was applied (checksum differs); restore the original file`)
        continue
      }
      db.transaction(() => {
        db.exec(sql)
        db.prepare(`INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES (?, ?, current_timestamp, ?, 1)`)
          .run(randomUUID(), checksum, name)
      })()
      applied.push(name)
    }
    const fk = db.pragma('foreign_key_check') as unknown[]
    if (fk.length)
      throw new Error(`foreign key check failed after migrating: ${JSON.stringify(fk.slice(0, 3))}`)
    return { applied, total: names.length }
  }
  finally {
    db.close()
  }
}
