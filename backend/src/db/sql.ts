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
 * is synchronous, so a `write` block runs start to end without anything else interleaving. Blocks
 * are committed in groups (see `write`):
 *   - when no Prisma transaction is open: `BEGIN IMMEDIATE`, the blocks, `COMMIT`;
 *   - when one is open (Prisma awaits between its statements): we take the adapter's transaction
 *     lock (`startTransaction`, which waits for Prisma's COMMIT), run the blocks, COMMIT, release.
 * A block that throws is rolled back whole; a COMMIT that fails rejects every block of the group
 * (nothing is acknowledged that was not committed).
 *
 * Rule: never await a `write` from inside a Prisma interactive transaction (`$transaction(async tx
 * => …)`): the group would wait for that transaction's lock while it waits for the group.
 *
 * Values: Dates are stored as Prisma stores them (ISO 8601 with `+00:00`), booleans as 1/0, so
 * Prisma reads and compares our rows exactly like its own.
 */
import type BetterSqlite3 from 'better-sqlite3'

/** A `Uint8Array` binds as a blob (e.g. UTF-8 text appended with `||`, which reads it as text). */
export type SqlArg = string | number | bigint | boolean | Date | Uint8Array | null | undefined

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
  const iso = d.toISOString() // always ends in Z
  return `${iso.slice(0, -1)}+00:00`
}

function bind(v: SqlArg): string | number | bigint | Uint8Array | null {
  if (v === undefined || v === null)
    return null
  if (v instanceof Date)
    return sqlDate(v)
  if (typeof v === 'boolean')
    return v ? 1 : 0
  return v
}

/** The open write block: statements run through it are part of that block's transaction. */
export type WriteTx = Pick<Sql, 'get' | 'all' | 'run'>

interface Pending {
  fn: (tx: WriteTx) => unknown
  resolve: (v: unknown) => void
  reject: (err: unknown) => void
}

export class Sql {
  private readonly stmts = new Map<string, BetterSqlite3.Statement>()
  private pending: Pending[] = []
  private scheduled = false

  constructor(private readonly adapter: SqliteAdapterHandle) {}

  private get conn(): BetterSqlite3.Database {
    return this.adapter.client
  }

  /** The better-sqlite3 connection itself (for connection settings, e.g. wal-checkpointer.ts). */
  get connection(): BetterSqlite3.Database {
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

  /**
   * Runs `fn` (synchronous: `get`/`all`/`run`) atomically; the promise settles once its writes are
   * committed (or with `fn`'s error, its writes undone). Group commit: the blocks asked for during
   * one turn of the event loop run one after another in ONE transaction, each in its own savepoint
   * (a block that throws is rolled back alone). Under load that is one COMMIT — each touched page
   * written to the WAL once — for many asks instead of one per block.
   */
  write<T>(fn: (tx: WriteTx) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => void this.flush())
      }
    })
  }

  private async flush(): Promise<void> {
    let release: (() => Promise<void>) | undefined
    if (this.conn.inTransaction) {
      // A Prisma transaction is open on this connection: wait for it through the adapter's lock.
      try {
        const tx = await this.adapter.startTransaction()
        release = () => tx.commit() // only releases the lock (the adapter issues no SQL here)
      }
      catch (err) {
        this.scheduled = false
        this.settle(this.takePending(), undefined, err)
        return
      }
    }
    // Blocks asked for while we waited join this batch; later ones schedule the next.
    this.scheduled = false
    const batch = this.takePending()
    const outcomes: Array<{ ok: true, value: unknown } | { ok: false, error: unknown }> = []
    let commitError: unknown
    try {
      if (!release)
        this.stmt('BEGIN IMMEDIATE').run()
      for (const w of batch) {
        this.stmt('SAVEPOINT cws_block').run()
        try {
          outcomes.push({ ok: true, value: w.fn(this) })
          this.stmt('RELEASE cws_block').run()
        }
        catch (error) {
          outcomes.push({ ok: false, error })
          this.stmt('ROLLBACK TO cws_block').run()
          this.stmt('RELEASE cws_block').run()
        }
      }
      this.stmt('COMMIT').run()
    }
    catch (err) {
      // BEGIN or COMMIT failed (e.g. the database is locked by another process for too long): nothing is kept.
      commitError = err
      try {
        if (this.conn.inTransaction)
          this.stmt('ROLLBACK').run()
      }
      catch {}
    }
    finally {
      if (release)
        await release()
    }
    this.settle(batch, outcomes, commitError)
  }

  private takePending(): Pending[] {
    const batch = this.pending
    this.pending = []
    return batch
  }

  private settle(batch: Pending[], outcomes: Array<{ ok: true, value: unknown } | { ok: false, error: unknown }> | undefined, commitError: unknown): void {
    batch.forEach((w, i) => {
      const o = outcomes?.[i]
      if (commitError !== undefined || !o)
        w.reject(commitError)
      else if (o.ok)
        w.resolve(o.value)
      else
        w.reject(o.error)
    })
  }
}
