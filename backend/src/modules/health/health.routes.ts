import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HealthResponse } from '../../contracts/common.js'
import { AppError } from '../../lib/errors.js'
import { VERSION } from '../../lib/version.js'

const started = Date.now()

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/health', {
    schema: { response: { 200: HealthResponse } },
    config: { public: true },
  }, async () => {
    try {
      await app.db.$queryRawUnsafe('SELECT 1')
    }
    catch {
      throw new AppError('SERVICE_UNAVAILABLE', 'The database does not answer.')
    }
    return { status: 'ok' as const, version: VERSION, uptimeSeconds: Math.round((Date.now() - started) / 1000), db: 'ok' as const }
  })
}

export default healthRoutes
