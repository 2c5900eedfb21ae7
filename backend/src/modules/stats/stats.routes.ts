import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../../contracts/common.js'
import { AdminMeta, MemberSummaryList, MemberSummaryQuery, StatsQuery, StatsResponse } from '../../contracts/stats.js'
import { dbBytes } from '../../db/client.js'
import { createStatsService } from './stats.service.js'

/** `/api/admin/stats*`: register inside the admin scope, after the quotas plugin. */
const statsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = createStatsService({
    db: app.db,
    now: () => app.now(),
    timezone: app.config.limits.timezone,
    models: () => app.upstreams.models(),
    limits: app.limits,
    dbBytes: () => dbBytes(app.dataDir),
    askRetentionDays: app.config.logs.ask_retention_days,
  })

  app.get('/api/admin/stats', {
    schema: {
      description: 'Asks bucketed by hour or day in the configured `limits.timezone` (per model), aggregated per model and per member (outcomes, average queue wait and time to first token, characters and tokens out), plus totals: users, active users in 1 and 7 days, conversations, messages, asks today, the database size and the ask log retention.',
      querystring: StatsQuery,
      response: { 200: StatsResponse, ...errors(400, 401, 403) },
    },
  }, async req => service.stats(req.query))

  app.get('/api/admin/stats/meta', {
    schema: {
      description: 'The configured models and the time zone daily time slots and stats are read in.',
      response: { 200: AdminMeta, ...errors(401, 403) },
    },
  }, async () => service.meta())

  app.get('/api/admin/stats/members', {
    schema: {
      description: 'For the members table: per member (comma-separated ids, at most 100), what remains of their asks, whether their access expired, asks in the last 7 days and the last ask. Unknown ids are left out.',
      querystring: MemberSummaryQuery,
      response: { 200: MemberSummaryList, ...errors(400, 401, 403) },
    },
  }, async req => ({ items: await service.memberSummaries(req.query.ids.split(',').map(Number)) }))
}

export default statsRoutes
