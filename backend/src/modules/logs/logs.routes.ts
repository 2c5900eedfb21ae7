import type { FastifyInstance } from 'fastify'
import type { OutgoingHttpHeaders } from 'node:http'
import type { LogStreamQuery as LogStreamQueryType, RecentLogsQuery as RecentLogsQueryType, RecentLogs as RecentLogsType } from '../../contracts/logs.js'
import { errors } from '../../contracts/common.js'
import { LogStreamQuery, RecentLogs, RecentLogsQuery } from '../../contracts/logs.js'
import { atLeast, parseLogLine } from './logs.logic.js'

const PING_MS = 15_000

/**
 * The admin's live server log, from the in-memory ring (`app.logRing`). Register inside the admin
 * scope. `GET /api/admin/logs/recent`: the newest lines; `GET /api/admin/logs/stream`: new lines as
 * server-sent events.
 */
export default async function logsRoutes(app: FastifyInstance): Promise<void> {
  // Open streams end before the server closes, or they would hold it open.
  const open = new Set<() => void>()
  app.addHook('preClose', async () => {
    for (const end of [...open]) end()
  })

  app.get('/api/admin/logs/recent', {
    schema: { querystring: RecentLogsQuery, response: { 200: RecentLogs, ...errors(400, 401, 403) } },
  }, async (req): Promise<RecentLogsType> => {
    const q = req.query as RecentLogsQueryType
    const limit = q.limit ?? 200
    const items = []
    // Newest first through the whole ring, so a level filter still yields up to `limit` lines.
    const lines = app.logRing.recent(Number.MAX_SAFE_INTEGER)
    for (let i = lines.length - 1; i >= 0 && items.length < limit; i--) {
      const line = parseLogLine(lines[i]!)
      if (line && atLeast(line.level, q.level))
        items.push(line)
    }
    return { items: items.reverse() }
  })

  app.get('/api/admin/logs/stream', {
    schema: {
      querystring: LogStreamQuery,
      response: {
        // Sent by hand on the hijacked reply; declared so the route table documents it.
        200: { type: 'string', description: 'text/event-stream: `log` per new line, `dropped` {count} after lines a slow reader missed, `: ping` every 15 s, and `error` {code, message} when the session ends or the role changes (then it closes)' },
        ...errors(400, 401, 403),
      },
    },
  }, async (req, reply) => {
    const { level } = req.query as LogStreamQueryType
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      ...reply.getHeaders() as OutgoingHttpHeaders,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'Connection': 'keep-alive',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    })
    // A slow reader costs at most one socket buffer: while it is full, lines are counted, not held.
    let blocked = false
    let dropped = 0
    const write = (chunk: string): void => {
      if (res.destroyed || res.writableEnded)
        return
      if (!res.write(chunk)) {
        blocked = true
        res.once('drain', () => {
          blocked = false
          if (dropped) {
            const count = dropped
            dropped = 0
            write(`event: dropped\ndata: ${JSON.stringify({ count })}\n\n`)
          }
        })
      }
    }
    const ping = setInterval(() => {
      if (!blocked)
        write(': ping\n\n')
    }, PING_MS)
    ping.unref()
    // Never log from in here: the listener runs inside a log write.
    const unsubscribe = app.logRing.subscribe((raw) => {
      const line = parseLogLine(raw)
      if (!line || !atLeast(line.level, level))
        return
      if (blocked) {
        dropped++
        return
      }
      write(`event: log\ndata: ${JSON.stringify(line)}\n\n`)
    })
    let forget = (): void => {}
    const end = (): void => {
      clearInterval(ping)
      unsubscribe()
      forget()
      open.delete(end)
      if (!res.writableEnded)
        res.end()
    }
    // Tied to the admin's session and role: logged out, disabled or demoted → closed, with the reason.
    forget = app.liveStreams.open(req.user!, { needs: 'admin' }, (reason) => {
      write(`event: error\ndata: ${JSON.stringify(reason)}\n\n`)
      end()
    })
    open.add(end)
    res.on('close', end)
    // The headers leave now, so the client knows the stream is open before any line arrives.
    write(': connected\n\n')
  })
}
