/**
 * WAL checkpoints off the event loop.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1000 pages: on our
 * one connection, so on the event loop. It copies those pages into cws.db and fsyncs it: 3–16 ms
 * here, once 300 ms on a busy disk, during which no stream of any member moves (docs/performance.md).
 *
 * Here a worker thread with its own connection (it never writes a row) runs `PRAGMA wal_checkpoint(PASSIVE)` once
 * a second. PASSIVE never waits for readers or writers and never takes the write lock, so it cannot
 * make a write of ours busy; once the whole WAL is copied, the next write starts it over from the
 * beginning, so it stays small. The main connection keeps an automatic checkpoint as a backstop, at
 * 10 000 pages while the worker runs and at SQLite's 1000 again if it fails.
 *
 * The worker's source is plain CommonJS run with `eval` (the same code under tsx, vitest and the
 * built server), loading the better-sqlite3 this module resolves.
 */
import type BetterSqlite3 from 'better-sqlite3'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file, { fileMustExist: true })
const tick = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)') }
  catch (err) { parentPort.postMessage({ error: String(err && err.message || err) }) }
}
const timer = setInterval(tick, workerData.intervalMs)
parentPort.postMessage({ ready: true })
parentPort.on('message', (m) => {
  if (m !== 'stop') return
  clearInterval(timer)
  tick()
  db.close()
  parentPort.close()
})
`

/** While the worker runs: the main connection checkpoints by itself only past this many pages. */
const BACKSTOP_PAGES = 10_000
const SQLITE_DEFAULT_PAGES = 1000

export interface WalCheckpointer {
  /** Checkpoints once more, closes the worker's connection and ends it (before the main connection closes). */
  stop: () => Promise<void>
}

export function startWalCheckpointer(conn: BetterSqlite3.Database, file: string, opts: { intervalMs?: number, onError?: (err: unknown) => void } = {}): WalCheckpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs: opts.intervalMs ?? 1000 } })
  // Nothing of ours waits on it: it must not keep the process alive.
  worker.unref()
  let stopped = false
  const fallBack = (err: unknown): void => {
    if (stopped)
      return
    stopped = true
    if (conn.open)
      conn.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_PAGES}`)
    opts.onError?.(err)
  }
  worker.on('message', (m: { ready?: boolean, error?: string }) => {
    if (m.ready && !stopped && conn.open)
      conn.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`)
    else if (m.error)
      opts.onError?.(new Error(`WAL checkpoint: ${m.error}`))
  })
  worker.on('error', fallBack)
  const exited = new Promise<void>(r => worker.once('exit', (code) => {
    if (code !== 0)
      fallBack(new Error(`the WAL checkpoint worker exited with code ${code}`))
    r()
  }))
  return {
    async stop() {
      if (!stopped) {
        stopped = true
        if (conn.open)
          conn.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_PAGES}`)
        worker.postMessage('stop')
      }
      await exited
    },
  }
}
