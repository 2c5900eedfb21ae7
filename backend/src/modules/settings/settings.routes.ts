import type { FastifyInstance } from 'fastify'
import { errors } from '../../contracts/common.js'
import { SaveUpstreamsBody, UpstreamSettings } from '../../contracts/settings.js'

/** The upstreams, for the admin: read (no credentials), replace (hot-reloaded), revert to the config. Register inside the admin scope. */
export default async function settingsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/admin/settings/upstreams', {
    schema: {
      description: 'The upstreams in effect and where they come from. Credentials are never returned, only whether one is set.',
      response: { 200: UpstreamSettings, ...errors(401, 403) },
    },
  }, async () => app.upstreamSettings.current())

  app.put('/api/admin/settings/upstreams', {
    schema: {
      description: 'Replaces the upstreams, validated like the config file, saved and applied at once. A credential left out keeps the one the upstream with that id has.',
      body: SaveUpstreamsBody,
      response: { 200: UpstreamSettings, ...errors(400, 401, 403) },
    },
  }, async req => app.upstreamSettings.save(req.body as SaveUpstreamsBody))

  app.delete('/api/admin/settings/upstreams', {
    schema: {
      description: 'Forgets the upstreams saved from the dashboard; the config file\'s apply again at once.',
      response: { 200: UpstreamSettings, ...errors(401, 403) },
    },
  }, async () => app.upstreamSettings.revert())
}
