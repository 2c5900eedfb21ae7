import { randomBytes, scryptSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { checkPasswordPolicy, generatePassword, hashPassword, verifyPassword } from '../src/lib/password.js'

describe('password hashing (scrypt N=2^17, r=8, p=1)', () => {
  it('writes a self-describing hash, salted, that verifies the password exactly as typed', async () => {
    const pw = 'Grüße aus Köln'
    const [a, b] = await Promise.all([hashPassword(pw), hashPassword(pw)])
    expect(a).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/=]{20,}\$[A-Za-z0-9+/=]{40,}$/)
    expect(a).not.toBe(b)
    expect(await verifyPassword(pw, a)).toBe(true)
    expect(await verifyPassword(`${pw} `, a)).toBe(false)
    expect(await verifyPassword(pw.toLowerCase(), a)).toBe(false)
    // Same text, other Unicode form (NFD): not what was typed, not accepted.
    expect(await verifyPassword(pw.normalize('NFD'), a)).toBe(false)
  }, 30_000)

  it('verifies hashes of other cost parameters (read from the hash), and never matches a malformed one', async () => {
    const salt = randomBytes(16)
    const key = scryptSync('older-password', salt, 32, { N: 2 ** 14, r: 8, p: 1 })
    const older = `$scrypt$ln=14,r=8,p=1$${salt.toString('base64')}$${key.toString('base64')}`
    expect(await verifyPassword('older-password', older)).toBe(true)
    expect(await verifyPassword('other-password', older)).toBe(false)
    for (const bad of ['', 'plaintext', '$scrypt$ln=17,r=8,p=1$$', '$2b$10$abcdefghijklmnopqrstuv', older.replace('ln=14', 'ln=40')])
      expect(await verifyPassword('older-password', bad), bad).toBe(false)
  })
})

describe('password policy', () => {
  const weak = (pw: string, user?: string) => {
    try {
      checkPasswordPolicy(pw, user)
      return null
    }
    catch (err) {
      return (err as { code: string }).code
    }
  }

  it('wants 8 to 128 characters, counted as the user sees them', () => {
    expect(weak('abcdefg')).toBe('WEAK_PASSWORD')
    expect(weak('abcdefgh-ok')).toBeNull()
    const animals = [...'🦊🐻🐼🐨🐯🦁🐮🐷']
    expect(weak(animals.slice(0, 7).join(''))).toBe('WEAK_PASSWORD') // 14 UTF-16 units, 7 characters
    expect(weak(animals.join(''))).toBeNull()
    expect(weak('x1'.repeat(64))).toBeNull()
    expect(weak(`${'x1'.repeat(64)}y`)).toBe('WEAK_PASSWORD')
  })

  it('refuses common passwords (any case), one repeated character, and the username', () => {
    for (const pw of ['password', 'PASSWORD123', 'Qwertyuiop', '12345678', 'iloveyou', 'admin123', 'zzzzzzzzzz'])
      expect(weak(pw), pw).toBe('WEAK_PASSWORD')
    expect(weak('Alice-Smith', 'alice-smith')).toBe('WEAK_PASSWORD')
    expect(weak('correct horse battery staple', 'alice')).toBeNull()
  })

  it('generates strong, distinct, policy-passing passwords', () => {
    const a = generatePassword()
    expect(a).toMatch(/^[A-Z2-9]{20}$/i)
    expect(a).not.toBe(generatePassword())
    expect(weak(a)).toBeNull()
  })
})
