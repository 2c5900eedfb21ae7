/**
 * Sharing what is left of the accounts' caps (docs/architecture.md, "Upstreams and accounts").
 * When what the group has left of a capped model falls to `cap_share.below_percent` of the total,
 * that last part is split among the members active in the cap's window: equal parts, or parts by
 * each member's share weight. Nothing is kept: the split is derived from the ask log each time,
 * inside the admission transaction when an ask is admitted (so two asks cannot both take the last
 * part of a share).
 */
import type { ModelPool } from '../../contracts/upstreams.js'
import type { WriteTx } from '../../db/sql.js'
import type { Pool } from './pool.js'

/** One ask of the window, oldest first: who asked and with which weight. */
export interface WindowAsk {
  userId: number
  weight: number
}

export interface CapShare {
  remaining: number
  of: number
  members: number
  /** When the group's cap frees up first (epoch ms), if known. */
  resetsAt?: number
}

/** The group cap of `model` over the pool's accounts: only when every enabled account has one (else nothing is scarce). */
export function groupCapOf(pool: Pool, model: string): { total: number, remaining: number, hours: number, resetsAt?: number } | undefined {
  const enabled = pool.accounts.filter(a => a.config.enabled !== false)
  const caps = enabled.map(a => a.cap(model))
  if (!caps.length || caps.some(c => !c))
    return undefined
  const list = caps.filter(c => !!c)
  const resets = list.map(c => c.resetsAt).filter((t): t is number => t !== undefined)
  return {
    total: list.reduce((n, c) => n + (c.learned ?? c.asks), 0),
    remaining: list.reduce((n, c) => n + Math.max(0, (c.learned ?? c.asks) - c.used), 0),
    hours: Math.max(...list.map(c => c.hours)),
    resetsAt: resets.length ? Math.min(...resets) : undefined,
  }
}

/**
 * The member's part of the split, or undefined while the split is not in force.
 * `asks`: the group's asks of the window, oldest first; the last `part` of the cap is split, and
 * the member's asks beyond the first `total - part` count against their share.
 */
export function splitShare(mode: 'equal' | 'weight', cap: { total: number, remaining: number }, belowPercent: number, asks: WindowAsk[], member: { userId: number, weight: number }): CapShare | undefined {
  const part = Math.floor(cap.total * belowPercent / 100)
  const used = Math.max(asks.length, cap.total - cap.remaining)
  if (part < 1 || used < cap.total - part)
    return undefined
  // Who is active: weight, asks in the window, and when they first asked in it.
  const active = new Map<number, { weight: number, asks: number, first: number }>()
  asks.forEach((a, i) => {
    const m = active.get(a.userId) ?? { weight: a.weight, asks: 0, first: i }
    m.asks++
    active.set(a.userId, m)
  })
  if (!active.has(member.userId))
    active.set(member.userId, { weight: member.weight, asks: 0, first: asks.length })
  const w = (id: number): number => (mode === 'weight' ? Math.max(1, active.get(id)!.weight) : 1)
  const sum = [...active.keys()].reduce((n, id) => n + w(id), 0)
  // Largest remainder: whole parts first; the asks left over go to the largest fractions, and among
  // equals to whoever used the window least (then whoever came first).
  const exact = [...active.entries()].map(([id, m]) => ({ id, m, x: part * w(id) / sum }))
  const shares = new Map(exact.map(e => [e.id, Math.floor(e.x)]))
  let left = part - [...shares.values()].reduce((n, s) => n + s, 0)
  const frac = (x: number): number => Math.round((x - Math.floor(x)) * 1e9)
  for (const e of [...exact].sort((a, b) => frac(b.x) - frac(a.x) || a.m.asks - b.m.asks || a.m.first - b.m.first)) {
    if (left-- <= 0)
      break
    shares.set(e.id, shares.get(e.id)! + 1)
  }
  const mine = asks.slice(cap.total - part).filter(a => a.userId === member.userId).length
  const of = shares.get(member.userId)!
  return { remaining: Math.max(0, of - mine), of, members: active.size }
}

export function createCapShares(deps: { now: () => number }) {
  /** The group's asks of `model` on `upstreamId` since `since`, oldest first (queued and running ones too). */
  const windowAsks = (tx: Pick<WriteTx, 'all'>, upstreamId: string, model: string, since: Date): WindowAsk[] =>
    tx.all<WindowAsk>(
      'SELECT a."userId" AS "userId", COALESCE(l."shareWeight", 1) AS "weight" FROM "Ask" a LEFT JOIN "UserLimits" l ON l."userId" = a."userId" WHERE a."upstreamId" = ? AND a."model" = ? AND a."createdAt" > ? AND (a."charsOut" > 0 OR a."outcome" IN (\'queued\', \'running\')) ORDER BY a."createdAt" ASC',
      upstreamId,
      model,
      since,
    )
  const weightOf = (tx: Pick<WriteTx, 'get'>, userId: number): number =>
    tx.get<{ w: number }>('SELECT "shareWeight" AS "w" FROM "UserLimits" WHERE "userId" = ?', userId)?.w ?? 1

  return {
    /** The member's share of `model` now, or undefined while nothing is split. */
    shareOf(tx: Pick<WriteTx, 'all' | 'get'>, pool: Pool, model: string, userId: number): CapShare | undefined {
      const mode = pool.upstream.cap_share?.mode ?? 'equal'
      const cap = mode === 'off' ? undefined : groupCapOf(pool, model)
      if (!cap || mode === 'off')
        return undefined
      const asks = windowAsks(tx, pool.id, model, new Date(deps.now() - cap.hours * 3600_000))
      const share = splitShare(mode, cap, pool.upstream.cap_share?.below_percent ?? 25, asks, { userId, weight: weightOf(tx, userId) })
      return share && { ...share, resetsAt: cap.resetsAt }
    },
  }
}

export type CapShares = ReturnType<typeof createCapShares>

/** The wire shape of a share in `ModelPool`. */
export function shareView(s: CapShare | undefined): ModelPool['share'] {
  return s ? { remaining: s.remaining, of: s.of, members: s.members } : null
}
