import path from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from '../generated/prisma/client.js'

export type Db = PrismaClient

export function dbFile(dataDir: string): string {
  return path.join(dataDir, 'cws.db')
}

/** Opens the Prisma client on `<dataDir>/cws.db` with WAL, busy_timeout and foreign keys on. */
export async function openDb(dataDir: string): Promise<Db> {
  const adapter = new PrismaBetterSqlite3({ url: `file:${dbFile(dataDir)}`, timeout: 10_000 })
  const db = new PrismaClient({ adapter })
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL')
  await db.$executeRawUnsafe('PRAGMA busy_timeout = 10000')
  await db.$executeRawUnsafe('PRAGMA foreign_keys = ON')
  await db.$executeRawUnsafe('PRAGMA synchronous = NORMAL')
  await verifyPragmas(db)
  return db
}

export interface PragmaState { journalMode: string, busyTimeout: number, foreignKeys: number }

export async function readPragmas(db: Db): Promise<PragmaState> {
  const [jm] = await db.$queryRawUnsafe<{ journal_mode: string }[]>('PRAGMA journal_mode')
  const [bt] = await db.$queryRawUnsafe<Record<string, number | bigint>[]>('PRAGMA busy_timeout')
  const [fk] = await db.$queryRawUnsafe<{ foreign_keys: number | bigint }[]>('PRAGMA foreign_keys')
  return {
    journalMode: String(jm?.journal_mode),
    busyTimeout: Number(Object.values(bt ?? {})[0]),
    foreignKeys: Number(fk?.foreign_keys),
  }
}

async function verifyPragmas(db: Db): Promise<void> {
  const p = await readPragmas(db)
  if (p.journalMode.toLowerCase() !== 'wal' || p.busyTimeout < 5000 || p.foreignKeys !== 1)
    throw new Error(`SQLite settings not in effect: ${JSON.stringify(p)} (need WAL, busy_timeout >= 5000, foreign_keys = 1)`)
}
