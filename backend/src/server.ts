import process from 'node:process'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config/load.js'
import { listeningBanner } from './lib/banner.js'
import { createLogger, LogRing } from './lib/logger.js'

/** Starts the server: load config, build the app, listen, close gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let loaded
  try {
    loaded = loadConfig()
  }
  catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n\nFix the configuration (config.yaml or CWS_* environment variables) and start again.\n`)
      process.exit(78)
    }
    throw err
  }
  const { config, dataDir, source } = loaded
  const ring = new LogRing()
  const logger = createLogger({ level: config.log.level, dataDir, file: config.log.file, maxFileBytes: config.log.max_file_mb * 1024 * 1024, maxFiles: config.log.max_files, ring })
  logger.info({ config: source.found ? source.path : '(none, using defaults)', dataDir }, 'starting ChatGPT Web Share')

  const app = await buildApp({ config, dataDir, logger, logRing: ring })

  let closing = false
  const shutdown = async (signal: string): Promise<void> => {
    if (closing)
      return
    closing = true
    logger.info({ signal }, 'shutting down')
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting')
      process.exit(1)
    }, 8000)
    force.unref()
    try {
      await app.close()
      process.exit(0)
    }
    catch (err) {
      logger.error({ err }, 'error while shutting down')
      process.exit(1)
    }
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))

  await app.listen({ host: config.server.host, port: config.server.port })
  const address = app.server.address()
  const banner = listeningBanner(config.server.host, typeof address === 'object' && address ? address.port : config.server.port)
  // Plainly on stdout, like the first admin's password, and in the log.
  process.stdout.write(`ChatGPT Web Share ${banner}\n`)
  logger.info({ host: config.server.host, port: config.server.port }, banner)
}

main().catch((err) => {
  process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
