import type { FastifyReply, FastifyRequest } from 'fastify'
import { LogController } from 'fastify'

/**
 * One log line per request, when it ends (`request completed`, or `request errored`), carrying the
 * request (method, url, host, remote address), the status and the response time; Fastify's default
 * also writes an `incoming request` line first. Half the lines: under a burst of asks the two lines
 * were ~6% of the server's CPU (docs/performance.md), and the start of a request is in the end line.
 */
export class OneLineRequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request))
      return
    if (error)
      reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored')
    else
      reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed')
  }
}
