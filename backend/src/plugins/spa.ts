import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import fp from 'fastify-plugin'

/** The built SPA: frontend/dist beside the backend (override with CWS_WEB_DIR). */
export function defaultWebDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../frontend/dist')
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>ChatGPT Web Share</title>
<p style="font-family:sans-serif">The web app is not built yet. Run <code>pnpm build</code> (or <code>pnpm start</code>, which builds it) and reload.</p>`

/**
 * Serves the SPA with history fallback: unknown non-/api paths get index.html (no-store); unknown
 * /api paths get a JSON 404. Hashed assets are cached for a year and sent precompressed (brotli or
 * gzip, made at build time) when the client accepts it.
 */
export default fp(async (app, opts: { webDir: string }) => {
  const index = path.join(opts.webDir, 'index.html')
  const built = existsSync(index)
  if (built) {
    await app.register(fastifyStatic, {
      root: opts.webDir,
      wildcard: false,
      cacheControl: false,
      index: false,
      // The build writes .br and .gz beside each text asset (frontend/vite.config.ts): sent as they
      // are to a client that accepts them, with Vary: Accept-Encoding.
      preCompressed: true,
      setHeaders(res, file) {
        // The same URL answers br, gzip or plain by the request's Accept-Encoding.
        res.setHeader('Vary', 'Accept-Encoding')
        if (file.includes(`${path.sep}assets${path.sep}`))
          res.setHeader('Cache-Control', 'public, max-age=31536000, immutable')
        else
          res.setHeader('Cache-Control', 'public, max-age=3600')
      },
    })
  }
  const html = () => (built ? readFileSync(index, 'utf8') : NOT_BUILT)
  app.setNotFoundHandler((req, reply) => {
    const url = req.url.split('?')[0] ?? '/'
    if (url === '/api' || url.startsWith('/api/'))
      return reply.status(404).send({ code: 'NOT_FOUND', message: `No such API route: ${req.method} ${url}`, reqId: String(req.id) })
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return reply.status(404).send({ code: 'NOT_FOUND', message: 'Not found', reqId: String(req.id) })
    if (/\.[a-z0-9]{1,8}$/i.test(url) && !url.endsWith('.html'))
      return reply.status(404).type('text/plain').send('Not found')
    return reply.header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html())
  })
}, { name: 'spa' })
