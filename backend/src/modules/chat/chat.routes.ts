import type { FastifyInstance } from 'fastify'
import type { OutgoingHttpHeaders } from 'node:http'
import { ChatBody, StopParams, StopResponse } from '../../contracts/chat.js'
import { errors } from '../../contracts/common.js'
import { SseStream } from './sse.js'

/**
 * `POST /api/chat` answers `text/event-stream` once the ask is admitted and stored; anything that
 * prevents that (validation, unknown model, limits, full queue, busy conversation) is a JSON error.
 * Register inside the authenticated scope.
 */
export default async function chatRoutes(app: FastifyInstance): Promise<void> {
  app.post('/api/chat', {
    schema: {
      body: ChatBody,
      response: {
        // Sent by hand on the hijacked reply; declared so the route table documents it.
        200: { type: 'string', description: 'text/event-stream: accepted, queued, started, delta, title, then done or error' },
        ...errors(400, 401, 403, 404, 409, 413, 429, 503),
      },
    },
  }, async (req, reply) => {
    const run = await app.chat.prepare(req.user!.id, req.body as ChatBody)
    reply.hijack()
    const sse = new SseStream(reply.raw, { pingMs: app.config.chat.ping_seconds * 1000, coalesceMs: app.config.chat.stream_coalesce_ms })
    sse.onClientClose(() => run.stop('disconnect'))
    // Keep the headers prepared so far (security headers), then the stream's own.
    sse.open({ ...reply.getHeaders() as OutgoingHttpHeaders, 'X-Request-Id': run.requestId })
    run.attach(sse)
    // The client may have gone away while the ask was being admitted.
    if (req.raw.socket?.destroyed)
      run.stop('disconnect')
  })

  app.post('/api/chat/:requestId/stop', {
    schema: {
      params: StopParams,
      response: { 200: StopResponse, ...errors(401, 404) },
    },
  }, async (req) => {
    const { requestId } = req.params as StopParams
    return { stopped: await app.chat.stop(req.user!.id, requestId) }
  })
}
