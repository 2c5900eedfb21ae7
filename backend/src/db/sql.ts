/**
 * Plain SQL on Prisma's own SQLite connection, for the few statements on every ask's path (session
 * check, quota reservation, storing the question, the ask's end).
 *
 * Why: through Prisma each statement costs 0.3–2 ms of JavaScript (query planning, interpretation,
 * a fresh `prepare` per call); here it is one cached better-sqlite3 statement, ~10–30 µs. With 200
 * asks arriving at once that was seconds of event-loop time before the last first token
 * (docs/performance.md).
 *
 * Safety: it is the SAME connection Prisma uses (the adapter's better-sqlite3 handle; there is no
 * second connection, so no SQLITE_BUSY between our own connections, prisma/orm#29933). better-sqlite3
 * is synchronous, so a `write` block runs start to end without anything else interleaving:
 *   - when no Prisma transaction is open: `BEGIN IMMEDIATE … COMMIT` right away;
 *   - when one is open (Prisma awaits between its statements): we take the adapter's transaction
 *     lock (`startTransaction`, which waits for Prisma's COMMIT), run the block, COMMIT, release.
 * A block that throws is rolled back whole; a COMMIT that fails throws (nothing is acknowledged).
 *
 * Values: Dates are stored as Prisma stores them (ISO 8601 with `+00:00`), booleans as 1/0, so
 * Prisma reads and compares our rows exactly like its own.
 */
import type BetterSqlite3 from 'better-sqlite3'

export type SqlArg = string | number | bigint | boolean | Date | null | undefined

interface AdapterTx {
  commit: () => Promise<void>
  rollback: () => Promise<void>
}

/** What we need of the Prisma better-sqlite3 adapter (pinned 7.10.0; checked at boot). */
export interface SqliteAdapterHandle {
  client: BetterSqlite3.Database
  startTransaction: () => Promise<AdapterTx>
}

/** A Date as Prisma's better-sqlite3 adapter writes it (iso8601 format). */
export function sqlDate(d: Date): string {
  return d.toISOString().replace('Z', '+00:00')
}

function bind(v: SqlArg): string | number | bigint | null {
  if (v === undefined || v === null)
    return null
  if (v instanceof Date)
    return sqlDate(v)
  if (typeof v === 'boolean')
    return v ? 1 : 0
  return v
}

export class Sql {
  private readonly stmts = new Map<string, BetterSqlite3.Statement>()

  constructor(private readonly adapter: SqliteAdapterHandle) {}

  private get conn(): BetterSqlite3.Database {
    return this.adapter.client
  }

  private stmt(sql: string): BetterSqlite3.Statement {
    let s = this.stmts.get(sql)
    if (!s) {
      s = this.conn.prepare(sql)
      if (s.reader)
        s.safeIntegers(false)
      this.stmts.set(sql, s)
    }
    return s
  }

  /** First row, or undefined. Reads need no transaction (one statement is atomic). */
  get<T>(sql: string, ...args: SqlArg[]): T | undefined {
    return this.stmt(sql).get(...args.map(bind)) as T | undefined
  }

  all<T>(sql: string, ...args: SqlArg[]): T[] {
    return this.stmt(sql).all(...args.map(bind)) as T[]
  }

  /** Runs one statement and returns the number of changed rows. Inside `write` blocks only. */
  run(sql: string, ...args: SqlArg[]): number {
    if (!this.conn.inTransaction)
      throw new Error('Sql.run outside a write block')
    return this.stmt(sql).run(...args.map(bind)).changes
  }

  /** Runs `fn` (synchronous: `get`/`all`/`run`) as one transaction, committed before this resolves. */
  async write<T>(fn: () => T): Promise<T> {
    if (!this.conn.inTransaction) {
      this.stmt('BEGIN IMMEDIATE').run()
      return this.finish(fn)
    }
    // A Prisma transaction is open on this connection: wait for it through the adapter's lock.
    const tx = await this.adapter.startTransaction()
    let result: T
    try {
      result = this.finish(fn)
    }
    finally {
      await tx.commit() // releases the lock (the adapter issues no SQL here)
    }
    return result
  }

  private finish<T>(fn: () => T): T {
    try {
      const result = fn()
      this.stmt('COMMIT').run()
      return result
    }
    catch (err) {
      if (this.conn.inTransaction)
        this.stmt('ROLLBACK').run()
      throw err
    }
  }
}
