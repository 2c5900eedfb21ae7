import { randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto'
import { AppError } from './errors.js'

/**
 * Password hashing with node:crypto scrypt (N=2^17, r=8, p=1: ~128 MiB and a few hundred ms per
 * hash, on libuv's thread pool so the event loop keeps serving). Hashes are self-describing:
 *
 *   $scrypt$ln=17,r=8,p=1$<salt base64>$<key base64>
 *
 * so the cost can be raised later and old hashes still verify. Passwords are compared exactly as
 * typed: no trimming, no Unicode normalization, no case folding.
 */

const LOG_N = 17
const R = 8
const P = 1
const KEY_LEN = 32
const SALT_LEN = 16
/** scrypt needs 128 * N * r bytes (128 MiB here); allow twice that. */
const MAX_MEM = 256 * 1024 * 1024

export const PASSWORD_MIN = 8
export const PASSWORD_MAX = 128

function derive(password: string, salt: Buffer, logN: number, r: number, p: number, len: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, len, { N: 2 ** logN, r, p, maxmem: MAX_MEM }, (err, key) => {
      if (err)
        reject(err)
      else resolve(key)
    })
  })
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LEN)
  const key = await derive(password, salt, LOG_N, R, P, KEY_LEN)
  return `$scrypt$ln=${LOG_N},r=${R},p=${P}$${salt.toString('base64')}$${key.toString('base64')}`
}

const HASH_RE = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/

/** True when `password` matches `encoded`. A malformed hash never matches (and does not throw). */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const m = HASH_RE.exec(encoded)
  if (!m)
    return false
  const [, ln, r, p, salt, key] = m
  const expected = Buffer.from(key!, 'base64')
  const logN = Number(ln)
  if (logN < 10 || logN > 20 || expected.length < 16)
    return false
  const actual = await derive(password, Buffer.from(salt!, 'base64'), logN, Number(r), Number(p), expected.length)
  return timingSafeEqual(actual, expected)
}

let dummy: Promise<string> | undefined
/**
 * Spends the same time as checking a real password, for unknown usernames, so response time does
 * not tell which usernames exist. Always false.
 */
export async function verifyDummy(password: string): Promise<false> {
  dummy ??= hashPassword(randomBytes(18).toString('base64'))
  await verifyPassword(password, await dummy)
  return false
}

/** The most common passwords of 8+ characters in public breach corpora (compared case-insensitively). */
const COMMON_PASSWORDS = new Set([
  '12345678',
  '123456789',
  '1234567890',
  '12345678910',
  '123456789a',
  '1234qwer',
  '1q2w3e4r',
  '1q2w3e4r5t',
  '1qaz2wsx',
  '1qazxsw2',
  '87654321',
  '11111111',
  '00000000',
  '88888888',
  '66666666',
  '147258369',
  '123123123',
  '123321123',
  'abc12345',
  'abcd1234',
  'abcdefgh',
  'asdfghjk',
  'asdfghjkl',
  'zxcvbnm1',
  'qwertyui',
  'qwertyuiop',
  'qwerty123',
  'qwerty12',
  'qwe12345',
  'q1w2e3r4',
  'q1w2e3r4t5',
  'password',
  'password1',
  'password12',
  'password123',
  'password!',
  'passw0rd',
  'p@ssw0rd',
  'p@ssword',
  'pa$$w0rd',
  'iloveyou',
  'iloveyou1',
  'sunshine',
  'princess',
  'football',
  'baseball',
  'superman',
  'starwars',
  'whatever',
  'trustno1',
  'welcome1',
  'welcome123',
  'letmein1',
  'letmein123',
  'changeme',
  'changeme1',
  'changeme123',
  'change-me',
  'admin123',
  'admin1234',
  'admin12345',
  'administrator',
  'adminadmin',
  'root1234',
  'rootroot',
  'chatgpt123',
  'openai123',
  'computer',
  'internet',
  'michelle',
  'jennifer',
  'mustang1',
  'shadow12',
  'master12',
  'dragon12',
  'monkey12',
  'liverpool',
  'chelsea1',
  'charlie1',
  'jordan23',
  'pokemon1',
  'secret123',
  'test1234',
  'testtest',
  'default1',
  'guest123',
  'zaq12wsx',
  'aa123456',
  'a1234567',
  'a12345678',
  'woaini1314',
  '5201314520',
])

/** Length in characters as the user sees them (code points), not UTF-16 units. */
function length(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

/**
 * Throws WEAK_PASSWORD unless `password` is 8–128 characters, not one of the most common
 * passwords, and not the username itself.
 */
export function checkPasswordPolicy(password: string, username?: string): void {
  const len = length(password)
  if (len < PASSWORD_MIN)
    throw new AppError('WEAK_PASSWORD', `The password must be at least ${PASSWORD_MIN} characters long.`)
  if (len > PASSWORD_MAX)
    throw new AppError('WEAK_PASSWORD', `The password must be at most ${PASSWORD_MAX} characters long.`)
  const lower = password.toLowerCase()
  if (COMMON_PASSWORDS.has(lower) || /^(.)\1+$/u.test(password))
    throw new AppError('WEAK_PASSWORD', 'This password is too common; choose another.')
  if (username && lower === username.toLowerCase())
    throw new AppError('WEAK_PASSWORD', 'The password must not be the username.')
}

const ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'
/** A random password of `len` characters (~5.8 bits each: 20 chars ≈ 117 bits), easy to copy. */
export function generatePassword(len = 20): string {
  let out = ''
  for (let i = 0; i < len; i++) out += ALPHABET[randomInt(ALPHABET.length)]
  return out
}
