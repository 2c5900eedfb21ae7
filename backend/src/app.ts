import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Config } from './config/schema.js'
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import pino from 'pino'
import { LogRing } from './lib/logger.js'
import { OneLineRequestLog } from './lib/request-log.js'
import askLogRoutes from './modules/asklog/asklog.routes.js'
import askRetentionPlugin from './modules/asklog/retention.plugin.js'
import asksPlugin from './modules/asks/asks.plugin.js'
import authPlugin from './modules/auth/auth.plugin.js'
import { loginRoutes, sessionRoutes } from './modules/auth/auth.routes.js'
import chatRoutes from './modules/chat/chat.routes.js'
import adminConversationsRoutes from './modules/conversations/admin-conversations.routes.js'
import conversationsRoutes from './modules/conversations/conversations.routes.js'
import healthRoutes from './modules/health/health.routes.js'
import limitsPlugin from './modules/limits/limits.plugin.js'
import limitsAdminRoutes from './modules/limits/limits.routes.js'
import logsRoutes from './modules/logs/logs.routes.js'
import modelsRoutes from './modules/models/models.routes.js'
import quotasPlugin from './modules/quotas/quotas.plugin.js'
import settingsPlugin from './modules/settings/settings.plugin.js'
import settingsRoutes from './modules/settings/settings.routes.js'
import statsRoutes from './modules/stats/stats.routes.js'
import statusRoutes from './modules/status/status.routes.js'
import upstreamsPlugin from './modules/upstreams/upstreams.plugin.js'
import upstreamsAdminRoutes from './modules/upstreams/upstreams.routes.js'
import adminUserRoutes from './modules/users/admin-users.routes.js'
import meRoutes from './modules/users/me.routes.js'
import usersPlugin from './modules/users/users.plugin.js'
import compressionPlugin from './plugins/compression.js'
import dbPlugin from './plugins/db.js'
import errorsPlugin from './plugins/errors.js'
import routePolicy from './plugins/route-policy.js'
import securityPlugin from './plugins/security.js'
import spaPlugin, { defaultWebDir } from './plugins/spa.js'

export interface AppOptions {
  config: Config
  dataDir: string
  /** A pino logger; tests pass a silent one. */
  logger?: FastifyBaseLogger
  /** Recent log lines, for the admin's live view. */
  logRing?: LogRing
  /** Where the built SPA lives. */
  webDir?: string
  /** Time source for everything that depends on "now" (sessions, quotas, windows). */
  now?: () => Date
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    dataDir: string
    logRing: LogRing
    now: () => Date
  }
}

/** Builds the whole app without listening. Order: external plugins → infrastructure → routes. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config } = opts
  const app = Fastify({
    loggerInstance: opts.logger ?? silentLogger(),
    logController: new OneLineRequestLog(),
    trustProxy: config.server.trust_proxy,
    bodyLimit: config.server.body_limit,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    genReqId: () => randomUUID(),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('config', config)
  app.decorate('dataDir', opts.dataDir)
  app.decorate('logRing', opts.logRing ?? new LogRing())
  app.decorate('now', opts.now ?? (() => new Date()))

  // External plugins (security headers + the JSON-only / same-origin guard on mutating /api routes)
  await app.register(routePolicy)
  await app.register(errorsPlugin)
  await app.register(securityPlugin)
  await app.register(compressionPlugin)

  // Infrastructure
  await app.register(dbPlugin, { dataDir: opts.dataDir })

  // Feature modules: each one plugin, with its dependencies declared (fastify-plugin checks them),
  // decorating the app with plain values (docs/architecture.md, "Modules and wiring").
  await app.register(authPlugin)
  await app.register(usersPlugin)
  await app.register(upstreamsPlugin)
  await app.register(limitsPlugin)
  await app.register(quotasPlugin)
  await app.register(asksPlugin)
  // The upstreams saved from the dashboard, if any, replace the configured ones before anyone asks.
  await app.register(settingsPlugin)
  // The ask log's retention (logs.ask_retention_days): at start, then daily.
  await app.register(askRetentionPlugin)

  // Routes. Public ones first; everything else inside the authenticated scope (plugins/auth.ts).
  await app.register(healthRoutes)
  await app.register(loginRoutes)
  await app.register(async (user) => {
    user.addHook('onRequest', user.authenticate)
    await user.register(sessionRoutes)
    await user.register(meRoutes)
    await user.register(chatRoutes)
    await user.register(conversationsRoutes)
    await user.register(statusRoutes)
    await user.register(modelsRoutes)
    // Every /api/admin/* route goes in here: members get 403.
    await user.register(async (admin) => {
      admin.addHook('onRequest', admin.requireAdmin)
      await admin.register(adminUserRoutes)
      await admin.register(adminConversationsRoutes)
      await admin.register(askLogRoutes)
      await admin.register(logsRoutes)
      await admin.register(limitsAdminRoutes)
      await admin.register(statsRoutes)
      await admin.register(settingsRoutes)
      await admin.register(upstreamsAdminRoutes)
    })
  })

  // The SPA and the JSON 404 for unknown /api paths come last.
  await app.register(spaPlugin, { webDir: opts.webDir ?? process.env.CWS_WEB_DIR ?? defaultWebDir() })

  return app
}

function silentLogger(): FastifyBaseLogger {
  return pino({ level: 'silent' })
}
