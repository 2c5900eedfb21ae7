// Container HEALTHCHECK (copied to /app/healthcheck.mjs in the image; the slim base has no curl).
// Resolves the port the same way the server does (config.yaml, CWS_* env, PORT), so a changed port
// does not make a healthy container look sick. Exit 0 = healthy, 1 = unhealthy.
import process from 'node:process'

const app = process.env.CWS_APP_DIR ?? '/app'

try {
  const { loadConfig } = await import(`${app}/backend/dist/config/load.js`)
  const { config } = loadConfig()
  const host = ['0.0.0.0', '::', ''].includes(config.server.host) ? '127.0.0.1' : config.server.host
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.server.port}/api/health`
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) })
  const body = await res.json().catch(() => ({}))
  if (!res.ok || body.status !== 'ok') {
    console.error(`unhealthy: ${url} answered ${res.status} ${JSON.stringify(body)}`)
    process.exit(1)
  }
  console.log(`healthy: ${url} (version ${body.version}, up ${body.uptimeSeconds}s)`)
}
catch (err) {
  console.error(`unhealthy: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
}
