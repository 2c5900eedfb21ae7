/**
 * Retention of the ask log (`logs.ask_retention_days`, README "Operating it"): ended asks older than
 * that are deleted, at start and daily. Never a queued or running ask, never one holding a quota
 * reservation, never conversations or messages (an Ask row only points at them). Asks that a
 * member's rolling rate window or an account's cap (at most 31 days) still counts are kept even when
 * older than the retention, so pruning never gives anyone asks back. A member's total and per-model
 * counts are counters of their own (ModelQuota), not sums of the log.
 */
import type { Db } from '../../db/client.js'

const DAY_MS = 86_400_000
/** Accounts' caps look back at most 24 × 31 hours (config/schema.ts `Cap`). */
const LONGEST_CAP_MS = 31 * DAY_MS
/** The longest rate window allowed, for when the stored limits cannot be read. */
const LONGEST_WINDOW_MS = 366 * DAY_MS

/**
 * Each member's longest rolling window, in ms, where longer than `floorMs` (a member asks only once
 * their limits row exists, so every member with asks has one). Unreadable limits keep everything a
 * window could count.
 */
async function longWindows(db: Db, floorMs: number): Promise<Map<number, number>> {
  let rows: Array<{ id: number | bigint, s: number | bigint | null }>
  try {
    rows = await db.$queryRawUnsafe(`
      SELECT u."userId" AS id, (SELECT max(CAST(json_extract(j.value, '$.windowSeconds') AS INTEGER)) FROM json_each(u."rateWindows") j) AS s
      FROM "UserLimits" u`)
  }
  catch {
    rows = (await db.user.findMany({ select: { id: true } })).map(u => ({ id: u.id, s: LONGEST_WINDOW_MS / 1000 }))
  }
  return new Map(rows.map(r => [Number(r.id), Number(r.s ?? 0) * 1000] as const).filter(([, ms]) => ms > floorMs))
}

/** Deletes the ended asks older than `days` (and outside their member's windows); how many it deleted. */
export async function pruneAsks(db: Db, now: Date, days: number): Promise<number> {
  if (days <= 0)
    return 0
  const floorMs = Math.max(days * DAY_MS, LONGEST_CAP_MS)
  const ended = { outcome: { notIn: ['queued', 'running'] }, quota: { not: 'reserved' } }
  const before = (ms: number) => ({ createdAt: { lt: new Date(now.getTime() - ms) } })
  const long = await longWindows(db, floorMs)
  let deleted = (await db.ask.deleteMany({ where: { ...ended, ...before(floorMs), userId: { notIn: [...long.keys()] } } })).count
  for (const [userId, ms] of long)
    deleted += (await db.ask.deleteMany({ where: { ...ended, ...before(ms), userId } })).count
  return deleted
}
