import type { SqliteAdapterHandle } from './sql.js'
import { statSync } from 'node:fs'
import path from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import Database from 'better-sqlite3'
import { PrismaClient } from '../generated/prisma/client.js'
import { Sql } from './sql.js'

export type Db = PrismaClient

export function dbFile(dataDir: string): string {
  return path.join(dataDir, 'cws.db')
}

/** What the database takes on disk: cws.db plus its WAL (the -shm index is a few KB), in bytes. */
export function dbBytes(dataDir: string): number {
  const file = dbFile(dataDir)
  return [file, `${file}-wal`].reduce((sum, f) => {
    try {
      return sum + statSync(f).size
    }
    catch {
      return sum
    }
  }, 0)
}

/** The adapter factory, remembering the adapter Prisma connects through (for `sqlOf`). */
class CapturingFactory extends PrismaBetterSqlite3 {
  adapter: unknown
  override async connect(): Promise<Awaited<ReturnType<PrismaBetterSqlite3['connect']>>> {
    const adapter = await super.connect()
    this.adapter = adapter
    return adapter
  }
}

const sqls = new WeakMap<Db, Sql>()

/** Plain SQL on the same connection as `db` (see sql.ts). Only for clients made by `openDb`. */
export function sqlOf(db: Db): Sql {
  const sql = sqls.get(db)
  if (!sql)
    throw new Error('sqlOf: this Prisma client was not opened by openDb')
  return sql
}

/** Opens the Prisma client on `<dataDir>/cws.db` with WAL, busy_timeout and foreign keys on. */
export async function openDb(dataDir: string): Promise<Db> {
  const factory = new CapturingFactory({ url: `file:${dbFile(dataDir)}`, timeout: 10_000 })
  const db = new PrismaClient({ adapter: factory })
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL')
  await db.$executeRawUnsafe('PRAGMA busy_timeout = 10000')
  await db.$executeRawUnsafe('PRAGMA foreign_keys = ON')
  await db.$executeRawUnsafe('PRAGMA synchronous = NORMAL')
  // Each write block of a group commit runs in a savepoint (db/sql.ts), whose undo journal SQLite
  // keeps in a temp FILE past 64 KiB by default: that made every insert on the ask path 2–4× slower.
  await db.$executeRawUnsafe('PRAGMA temp_store = MEMORY')
  // Freed pages are zeroed, so a replaced credential does not linger in them (docs/architecture.md, "Persistence").
  await db.$queryRawUnsafe('PRAGMA secure_delete = ON')
  await verifyPragmas(db)
  const handle = factory.adapter as Partial<SqliteAdapterHandle> | undefined
  if (!(handle?.client instanceof Database) || typeof handle.startTransaction !== 'function')
    throw new Error('The Prisma better-sqlite3 adapter no longer exposes its connection (client, startTransaction); check db/sql.ts against the installed @prisma/adapter-better-sqlite3')
  sqls.set(db, new Sql(handle as SqliteAdapterHandle))
  return db
}

export interface PragmaState { journalMode: string, busyTimeout: number, foreignKeys: number, tempStore: number, secureDelete: number }

export async function readPragmas(db: Db): Promise<PragmaState> {
  const [jm] = await db.$queryRawUnsafe<{ journal_mode: string }[]>('PRAGMA journal_mode')
  const [bt] = await db.$queryRawUnsafe<Record<string, number | bigint>[]>('PRAGMA busy_timeout')
  const [fk] = await db.$queryRawUnsafe<{ foreign_keys: number | bigint }[]>('PRAGMA foreign_keys')
  const [ts] = await db.$queryRawUnsafe<{ temp_store: number | bigint }[]>('PRAGMA temp_store')
  const [sd] = await db.$queryRawUnsafe<{ secure_delete: number | bigint }[]>('PRAGMA secure_delete')
  return {
    journalMode: String(jm?.journal_mode),
    busyTimeout: Number(Object.values(bt ?? {})[0]),
    foreignKeys: Number(fk?.foreign_keys),
    tempStore: Number(ts?.temp_store),
    secureDelete: Number(sd?.secure_delete),
  }
}

async function verifyPragmas(db: Db): Promise<void> {
  const p = await readPragmas(db)
  if (p.journalMode.toLowerCase() !== 'wal' || p.busyTimeout < 5000 || p.foreignKeys !== 1 || p.tempStore !== 2 || p.secureDelete !== 1)
    throw new Error(`SQLite settings not in effect: ${JSON.stringify(p)} (need WAL, busy_timeout >= 5000, foreign_keys = 1, temp_store = MEMORY, secure_delete = ON)`)
}

/**
 * After a credential was dropped (replaced or reverted in the dashboard): VACUUM rewrites the file
 * without its free pages, and a TRUNCATE checkpoint empties the WAL, which still held the old page
 * images. Retried briefly when a transaction is open on the connection.
 */
export async function compactDb(db: Db): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await db.$executeRawUnsafe('VACUUM')
      await db.$queryRawUnsafe('PRAGMA wal_checkpoint(TRUNCATE)')
      return
    }
    catch (err) {
      if (attempt >= 20)
        throw err
      await new Promise(r => setTimeout(r, 50))
    }
  }
}
