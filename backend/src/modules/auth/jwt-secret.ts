import { randomBytes } from 'node:crypto'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/**
 * The HS256 secret: `auth.jwt_secret` from the config, else `<dataDir>/jwt_secret`, generated once
 * (256 random bits) with mode 0600. Never a built-in default. Changing it logs everyone out.
 */
export function loadJwtSecret(configured: string | undefined, dataDir: string): string {
  if (configured)
    return configured
  const file = path.join(dataDir, 'jwt_secret')
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
  }
  catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
      throw err
  }
  if ((statSync(file).mode & 0o077) !== 0)
    chmodSync(file, 0o600)
  const secret = readFileSync(file, 'utf8').trim()
  if (secret.length < 32)
    throw new Error(`${file} holds a secret shorter than 32 characters; delete it to generate a new one.`)
  return secret
}
