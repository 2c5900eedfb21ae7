import type { Db } from '../../db/client.js'
import type { ThrottleStore } from './login-throttle.js'
import { sqlOf } from '../../db/client.js'

/** The only code that touches the LoginFailure table: the login throttle's counts across restarts. */
export function createLoginFailuresRepository(db: Db): ThrottleStore & {
  /** Every row, least recently touched first; rows whose newest failure is older than `since` are deleted. */
  loadSince: (since: number) => Promise<Array<{ key: string, times: number[] }>>
} {
  const sql = sqlOf(db)
  return {
    async loadSince(since) {
      const rows = sql.all<{ key: string, times: string }>('SELECT "key", "times" FROM "LoginFailure" ORDER BY "updatedAt", "key"')
      const live: Array<{ key: string, times: number[] }> = []
      const dead: string[] = []
      for (const row of rows) {
        let times: number[] = []
        try {
          const parsed: unknown = JSON.parse(row.times)
          if (Array.isArray(parsed))
            times = parsed.filter((t): t is number => typeof t === 'number' && t > since)
        }
        catch {}
        if (times.length)
          live.push({ key: row.key, times })
        else
          dead.push(row.key)
      }
      if (dead.length) {
        await sql.write((tx) => {
          for (const key of dead)
            tx.run('DELETE FROM "LoginFailure" WHERE "key" = ?', key)
        })
      }
      return live
    },

    async save(changes, now) {
      const at = new Date(now)
      await sql.write((tx) => {
        for (const [key, times] of changes) {
          if (times === null) {
            tx.run('DELETE FROM "LoginFailure" WHERE "key" = ?', key)
          }
          else {
            tx.run('INSERT INTO "LoginFailure" ("key", "times", "updatedAt") VALUES (?, ?, ?) ON CONFLICT("key") DO UPDATE SET "times" = excluded."times", "updatedAt" = excluded."updatedAt"', key, JSON.stringify(times), at)
          }
        }
      })
    },
  }
}
