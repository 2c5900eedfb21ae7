import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { OutgoingHttpHeaders } from 'node:http'
import type { AskChannel } from '../streams/channel.js'
import { AskEventsHeaders, AskEventsParams, ChatBody, StopParams, StopResponse } from '../../contracts/chat.js'
import { errors } from '../../contracts/common.js'
import { AppError } from '../../lib/errors.js'
import { storedFrames } from '../asks/stored-replay.js'
import { SseStream } from '../streams/sse.js'

const STREAM_DOC = { type: 'string', description: 'text/event-stream: accepted, queued, started, delta, title, then done or error; every frame has an id' } as const

/**
 * The ask's HTTP face (docs/architecture.md, "The stream protocol"). `POST /api/chat` answers
 * `text/event-stream` once the ask is admitted and stored; anything that prevents that is a JSON
 * error. The stream is one listener of the ask: closing it detaches, it does not stop the ask.
 * Register inside the authenticated scope.
 */
export default async function chatRoutes(app: FastifyInstance): Promise<void> {
  const { admission, registry, repo } = app.asks

  /**
   * Opens the SSE response, tied to the request's session: when the session ends, the stream gets
   * an `error` saying why and closes (the ask itself goes on, detached; see run-registry.ts).
   */
  function openStream(req: FastifyRequest, reply: FastifyReply, requestId: string, channel?: AskChannel): SseStream {
    reply.hijack()
    const { ping_seconds, stream_coalesce_ms, stalled_reader_seconds } = app.config.chat
    const sse = new SseStream(reply.raw, { pingMs: ping_seconds * 1000, coalesceMs: stream_coalesce_ms, stallMs: stalled_reader_seconds * 1000 })
    // Keep the headers prepared so far (security headers), then the stream's own.
    sse.open({ ...reply.getHeaders() as OutgoingHttpHeaders, 'X-Request-Id': requestId })
    const forget = app.liveStreams.open(req.user!, {}, (end) => {
      channel?.drop(sse)
      sse.send('error', end)
      sse.end()
    })
    // However the response ends (done, error, the client gone): a finished stream must not stay
    // registered, or every ask's channel and run would be kept for the life of the process.
    reply.raw.once('close', forget)
    return sse
  }

  app.post('/api/chat', {
    schema: {
      body: ChatBody,
      // 200 is sent by hand on the hijacked reply; declared so the route table documents it.
      response: { 200: STREAM_DOC, ...errors(400, 401, 403, 404, 409, 413, 429, 503) },
    },
  }, async (req, reply) => {
    const run = await admission.admit(req.user!.id, req.body as ChatBody)
    // The client may have gone away while the ask was being admitted: then nobody listens, and the
    // detach grace (run-registry.ts) decides.
    if (req.raw.socket?.destroyed)
      return reply.hijack()
    run.channel.attach(openStream(req, reply, run.requestId, run.channel), run.channel.askerCursor())
  })

  app.get('/api/chat/:requestId/events', {
    schema: {
      params: AskEventsParams,
      headers: AskEventsHeaders,
      response: { 200: STREAM_DOC, ...errors(401, 404) },
    },
  }, async (req, reply) => {
    const { requestId } = req.params as AskEventsParams
    const after = (req.headers as AskEventsHeaders)['last-event-id'] ?? null
    const userId = req.user!.id
    const channel = registry.channelOf(userId, requestId)
    const stored = channel ? null : repo.askSnapshot(requestId, userId)
    if (!channel && !stored)
      throw new AppError('NOT_FOUND', 'No such ask.')
    const sse = openStream(req, reply, requestId, channel)
    if (channel) {
      channel.attach(sse, after)
      return
    }
    for (const f of storedFrames(stored!)) sse.send(f.event, f.data, f.id)
    sse.end()
  })

  app.post('/api/chat/:requestId/stop', {
    schema: {
      params: StopParams,
      response: { 200: StopResponse, ...errors(401, 404) },
    },
  }, async (req) => {
    const { requestId } = req.params as StopParams
    const userId = req.user!.id
    const run = registry.runOf(userId, requestId)
    if (run)
      return { stopped: run.stop('stop') }
    if (await repo.askExists(requestId, userId))
      return { stopped: false }
    throw new AppError('NOT_FOUND', 'No such ask.')
  })
}
