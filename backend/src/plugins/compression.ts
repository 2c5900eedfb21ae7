import { constants } from 'node:zlib'
import fastifyCompress from '@fastify/compress'
import fp from 'fastify-plugin'

/** Responses smaller than this go as they are (compressing them would not save a packet). */
export const COMPRESS_THRESHOLD = 1024

/**
 * Compresses what the server makes per request (API JSON, index.html) with brotli or gzip, whichever
 * the client accepts first, above 1 KiB. Brotli at quality 4: within a few percent of gzip's best
 * size at a fraction of the CPU of brotli's default 11, which is for build time (the SPA's assets
 * are compressed by the build and served as they are by `plugins/spa.ts`).
 *
 * Never touched: `text/event-stream` (@fastify/compress leaves it out, and the SSE routes hijack the
 * reply, so each event still leaves as soon as it is written) and request bodies (no
 * decompression: a small gzip body must not become a huge one behind the body limit's back).
 * Registered before the routes and the static files (its `onSend` hook must see them).
 */
export default fp(async (app) => {
  await app.register(fastifyCompress, {
    global: true,
    globalDecompression: false,
    threshold: COMPRESS_THRESHOLD,
    encodings: ['br', 'gzip'],
    brotliOptions: { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } },
    zlibOptions: { level: 6 },
  })
}, { name: 'compression' })
