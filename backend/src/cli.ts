/**
 * Operator commands that need no running server, for when the web UI cannot help:
 *   node backend/dist/cli.js reset-password <username> [--password <new>]
 * (in a container: `docker compose exec cws node backend/dist/cli.js reset-password admin`).
 * It reads the same config and data dir as the server.
 */
import process from 'node:process'
import { ConfigError, loadConfig } from './config/load.js'
import { dbFile, openDb } from './db/client.js'
import { migrate } from './db/migrate.js'
import { AppError } from './lib/errors.js'
import { checkPasswordPolicy, generatePassword, hashPassword } from './lib/password.js'
import { createSessionsRepository } from './modules/auth/sessions.repository.js'

const USAGE = `usage:
  cws reset-password <username> [--password <new password>]
      Sets a new password (generated and printed when not given) and ends the user's sessions.
      Also re-enables the account.`

export async function resetPassword(dataDir: string, username: string, given?: string): Promise<string> {
  migrate(dbFile(dataDir))
  const db = await openDb(dataDir)
  try {
    const user = await db.user.findUnique({ where: { username: username.toLowerCase() } })
    if (!user)
      throw new AppError('NOT_FOUND', `No user named "${username}".`)
    const password = given ?? generatePassword()
    checkPasswordPolicy(password, user.username)
    const now = new Date()
    await db.user.update({ where: { id: user.id }, data: { passwordHash: await hashPassword(password), passwordChangedAt: now, enabled: true } })
    await createSessionsRepository(db).revokeAll(user.id, now)
    return password
  }
  finally {
    await db.$disconnect()
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, username, ...rest] = argv
  if (cmd !== 'reset-password' || !username || username.startsWith('-')) {
    process.stderr.write(`${USAGE}\n`)
    return 2
  }
  const i = rest.indexOf('--password')
  const given = i >= 0 ? rest[i + 1] : undefined
  if (i >= 0 && !given) {
    process.stderr.write('--password needs a value\n')
    return 2
  }
  const { dataDir } = loadConfig()
  const password = await resetPassword(dataDir, username, given)
  process.stdout.write(given ? `Password of "${username}" changed; their sessions were ended.\n` : `New password of "${username}": ${password}\nTheir sessions were ended.\n`)
  return 0
}

main(process.argv.slice(2)).then(code => process.exit(code), (err) => {
  if (err instanceof ConfigError || err instanceof AppError)
    process.stderr.write(`${err.message}\n`)
  else
    process.stderr.write(`Failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
