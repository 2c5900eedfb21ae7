import type { FastifyError } from 'fastify'
import fp from 'fastify-plugin'
import { isAppError } from '../lib/errors.js'

/** Maps every error to `{ code, message, reqId }` with a real status; hides the internals of 5xx. */
export default fp(async (app) => {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const reqId = String(req.id)
    if (isAppError(err)) {
      if (err.details?.retryAfterSeconds !== undefined)
        reply.header('Retry-After', String(Math.max(1, Math.ceil(Number(err.details.retryAfterSeconds)))))
      return reply.status(err.statusCode).send({ code: err.code, message: err.message, reqId, ...err.details })
    }
    if (err.validation) {
      const first = err.validation[0]
      const where = err.validationContext ?? 'request'
      const field = first?.instancePath ? `${where}${first.instancePath.replaceAll('/', '.')}` : where
      const extra = (first?.params as { additionalProperty?: string } | undefined)?.additionalProperty
      const message = extra ? `${field}: unknown field "${extra}"` : `${field}: ${first?.message ?? 'invalid'}`
      return reply.status(400).send({ code: 'VALIDATION_FAILED', message, reqId, details: err.validation.map(v => ({ path: v.instancePath, message: v.message, params: v.params })) })
    }
    const status = err.statusCode ?? 500
    const code = err.code
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415)
      return reply.status(415).send({ code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the request body as application/json.', reqId })
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413)
      return reply.status(413).send({ code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large.', reqId })
    if (status === 429) {
      return reply.status(429).send({ code: 'RATE_LIMITED', message: 'Too many requests; try again shortly.', reqId })
    }
    if (status >= 400 && status < 500) {
      // Malformed JSON, prototype poisoning, empty JSON body, and the like.
      return reply.status(status).send({ code: status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', message: err.message, reqId })
    }
    req.log.error({ err }, 'unhandled error')
    return reply.status(500).send({ code: 'INTERNAL', message: 'Something went wrong on the server. Try again; if it keeps happening, tell the administrator.', reqId })
  })
}, { name: 'errors' })
