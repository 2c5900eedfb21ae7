import type { AdminMeta, MemberStats, MemberSummary, ModelStats, StatsBucket, StatsQuery, StatsResponse, StatsSeriesPoint } from '../../contracts/stats.js'
import type { Db } from '../../db/client.js'
import type { LimitsService } from '../limits/limits.service.js'
import type { ModelEntry } from '../upstreams/upstreams.service.js'
import { AppError } from '../../lib/errors.js'
import { createAggregate, createBucketer } from './stats.logic.js'

export interface StatsDeps {
  db: Db
  now: () => Date
  /** IANA zone buckets are read in (`limits.timezone`). */
  timezone: string
  models: () => ModelEntry[]
  limits: Pick<LimitsService, 'load' | 'modelAsksOf'>
  /** cws.db plus its WAL, in bytes (db/client.ts `dbBytes`). */
  dbBytes: () => number
  askRetentionDays: number
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
/** Most buckets one answer may hold (a month of hours, two years of days). */
export const MAX_BUCKETS = 800
const DEFAULT_SPAN: Record<StatsBucket, number> = { day: 14 * DAY, hour: 48 * HOUR }
const TOP_MEMBERS = 100

/** Usage statistics for the admin dashboard, from the ask log (`Ask` rows) and a few counts. */
export function createStatsService(deps: StatsDeps) {
  const { db, timezone } = deps

  function range(q: StatsQuery): { from: Date, to: Date, bucket: StatsBucket } {
    const bucket = q.bucket ?? 'day'
    const to = q.to ? new Date(q.to) : deps.now()
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DEFAULT_SPAN[bucket])
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
      throw new AppError('VALIDATION_FAILED', 'querystring/from and /to must be date-times.')
    if (from.getTime() >= to.getTime())
      throw new AppError('VALIDATION_FAILED', 'querystring/from must be before /to.')
    // +2: a range may touch a partial bucket at each end.
    if ((to.getTime() - from.getTime()) / (bucket === 'day' ? DAY : HOUR) > MAX_BUCKETS - 2)
      throw new AppError('VALIDATION_FAILED', `querystring: at most ${MAX_BUCKETS} ${bucket} buckets per request; narrow the range or use bigger buckets.`)
    return { from, to, bucket }
  }

  async function totals(now: Date) {
    const dayAgo = new Date(now.getTime() - DAY)
    const weekAgo = new Date(now.getTime() - 7 * DAY)
    const active = (since: Date) => db.user.count({
      where: { OR: [{ lastActiveAt: { gte: since } }, { asks: { some: { createdAt: { gte: since } } } }] },
    })
    const todayStart = new Date(createBucketer(timezone, 'day').startOf(now))
    const [users, enabledUsers, active1d, active7d, conversations, messages, asksToday] = await Promise.all([
      db.user.count(),
      db.user.count({ where: { enabled: true } }),
      active(dayAgo),
      active(weekAgo),
      db.conversation.count(),
      db.message.count(),
      db.ask.count({ where: { createdAt: { gte: todayStart } } }),
    ])
    return { users, enabledUsers, active1d, active7d, conversations, messages, asksToday, dbBytes: deps.dbBytes(), askRetentionDays: deps.askRetentionDays }
  }

  async function stats(q: StatsQuery): Promise<StatsResponse> {
    const { from, to, bucket } = range(q)
    const bucketer = createBucketer(timezone, bucket)
    const [rows, tot] = await Promise.all([
      db.ask.findMany({
        where: { createdAt: { gte: from, lt: to } },
        select: { userId: true, model: true, outcome: true, queueWaitMs: true, ttftMs: true, charsIn: true, charsOut: true, tokensOut: true, createdAt: true },
      }),
      totals(deps.now()),
    ])

    const series = bucketer.series(from, to)
    const points = new Map<string, StatsSeriesPoint>(series.map(b => [b.key, { key: b.key, start: new Date(b.start).toISOString(), asks: 0, byModel: {}, errors: 0 }]))
    const summary = createAggregate()
    const perModel = new Map<string, ReturnType<typeof createAggregate>>()
    const perUser = new Map<number, { agg: ReturnType<typeof createAggregate>, last: number }>()

    for (const r of rows) {
      summary.add(r)
      const p = points.get(bucketer.label(r.createdAt))
      if (p) {
        p.asks += 1
        p.byModel[r.model] = (p.byModel[r.model] ?? 0) + 1
        if (r.outcome === 'error')
          p.errors += 1
      }
      let m = perModel.get(r.model)
      if (!m)
        perModel.set(r.model, m = createAggregate())
      m.add(r)
      let u = perUser.get(r.userId)
      if (!u)
        perUser.set(r.userId, u = { agg: createAggregate(), last: 0 })
      u.agg.add(r)
      u.last = Math.max(u.last, r.createdAt.getTime())
    }

    const names = new Map(deps.models().map(m => [m.key, m.name]))
    const models: ModelStats[] = [...perModel.entries()]
      .map(([model, agg]) => ({ model, name: names.get(model) ?? model, ...agg.finish() }))
      .sort((a, b) => b.asks - a.asks || a.model.localeCompare(b.model))

    const top = [...perUser.entries()].sort((a, b) => b[1].agg.asks - a[1].agg.asks || a[0] - b[0]).slice(0, TOP_MEMBERS)
    const users = await db.user.findMany({ where: { id: { in: top.map(([id]) => id) } }, select: { id: true, username: true, nickname: true } })
    const byId = new Map(users.map(u => [u.id, u]))
    const members: MemberStats[] = top.map(([userId, u]) => ({
      userId,
      username: byId.get(userId)?.username ?? `#${userId}`,
      nickname: byId.get(userId)?.nickname ?? '',
      lastAskAt: u.last ? new Date(u.last).toISOString() : null,
      ...u.agg.finish(),
    }))

    return {
      from: from.toISOString(),
      to: to.toISOString(),
      bucket,
      timezone,
      totals: tot,
      summary: summary.finish(),
      series: [...points.values()],
      perModel: models,
      perUser: members,
    }
  }

  function meta(): AdminMeta {
    return {
      timezone,
      models: deps.models().map(m => ({ key: m.key, name: m.name, upstreamId: m.upstreamId, isDemo: m.demo })),
    }
  }

  /** Per member: what remains of their limits, whether they expired, and recent use. Unknown ids are left out. */
  async function memberSummaries(ids: number[]): Promise<MemberSummary[]> {
    const unique = [...new Set(ids)]
    const now = deps.now()
    const [recent, last] = await Promise.all([
      db.ask.groupBy({ by: ['userId'], where: { userId: { in: unique }, createdAt: { gte: new Date(now.getTime() - 7 * DAY) } }, _count: { _all: true } }),
      db.ask.groupBy({ by: ['userId'], where: { userId: { in: unique } }, _max: { createdAt: true } }),
    ])
    const recentBy = new Map(recent.map(r => [r.userId, r._count._all]))
    const lastBy = new Map(last.map(r => [r.userId, r._max.createdAt]))
    const models = deps.models()
    const out: MemberSummary[] = []
    for (const id of unique) {
      let l
      try {
        l = await deps.limits.load(id)
      }
      catch (err) {
        if (err instanceof AppError && err.code === 'NOT_FOUND')
          continue
        throw err
      }
      const allowed = l.row.allowedModels ? new Set(JSON.parse(l.row.allowedModels) as string[]) : null
      const lastAt = lastBy.get(id)
      out.push({
        userId: id,
        limitsEnabled: l.row.enabled,
        validUntil: l.row.validUntil ? l.row.validUntil.toISOString() : null,
        expired: !!l.row.validUntil && l.row.validUntil.getTime() <= now.getTime(),
        totalAsks: l.row.totalAsks,
        models: models.filter(m => !allowed || allowed.has(m.key)).map(m => ({ model: m.key, name: m.name, remaining: deps.limits.modelAsksOf(l, m.key) })),
        asks7d: recentBy.get(id) ?? 0,
        lastAskAt: lastAt ? lastAt.toISOString() : null,
      })
    }
    return out
  }

  return { stats, meta, memberSummaries }
}

export type StatsService = ReturnType<typeof createStatsService>
