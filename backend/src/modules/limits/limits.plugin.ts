import type { LimitsService } from './limits.service.js'
import fp from 'fastify-plugin'
import { assertTimeZone } from './limits.logic.js'
import { createLimitsService } from './limits.service.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Members' limits: admin edits, defaults for new members, what members see. */
    limits: LimitsService
  }
}

/** The limits module (docs/limits.md). Refuses to start with a time zone that is not an IANA name. */
export default fp(async (app) => {
  const timezone = app.config.limits.timezone
  try {
    assertTimeZone(timezone)
  }
  catch {
    throw new Error(`limits.timezone: "${timezone}" is not an IANA time zone (e.g. "UTC", "Europe/Berlin", "Asia/Shanghai")`)
  }
  app.decorate('limits', createLimitsService({ db: app.db, now: () => app.now(), timezone, models: () => app.upstreams.models() }))
}, { name: 'limits', dependencies: ['db', 'upstreams'] })
