import type { Db } from '../src/db/client.js'
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDb, sqlOf } from '../src/db/client.js'
import { migrate } from '../src/db/migrate.js'
import { tempDataDir } from './helper.js'

describe('plain SQL on Prisma\'s connection (db/sql.ts)', () => {
  let dir: string
  let db: Db
  beforeAll(async () => {
    dir = tempDataDir()
    migrate(`${dir}/cws.db`)
    db = await openDb(dir)
  })
  afterAll(async () => {
    await db.$disconnect()
    rmSync(dir, { recursive: true, force: true })
  })
  const put = (key: string, value: string) => sqlOf(db).run('INSERT INTO "Setting" ("key", "value", "updatedAt") VALUES (?, ?, ?)', key, value, new Date())

  it('writes Dates and reads rows the way Prisma does', async () => {
    const at = new Date('2026-01-02T03:04:05.678Z')
    await sqlOf(db).write(() => sqlOf(db).run('INSERT INTO "Setting" ("key", "value", "updatedAt") VALUES (?, ?, ?)', 'd', 'x', at))
    expect((await db.setting.findUnique({ where: { key: 'd' } }))?.updatedAt).toEqual(at)
    expect(await db.setting.count({ where: { updatedAt: { gt: new Date(at.getTime() - 1) } } })).toBe(1)
  })

  it('a block written while a Prisma transaction is open waits for its COMMIT and is not part of it', async () => {
    const sql = sqlOf(db)
    let inside = -1
    const prisma = db.$transaction(async (tx) => {
      await tx.setting.create({ data: { key: 'p1', value: '1' } })
      await new Promise(r => setTimeout(r, 30))
      await tx.setting.create({ data: { key: 'p2', value: '2' } })
    })
    await new Promise(r => setTimeout(r, 5))
    const ours = sql.write(() => {
      inside = sql.get<{ n: number }>('SELECT count(*) AS "n" FROM "Setting" WHERE "key" IN (\'p1\', \'p2\')')!.n
      put('o1', '3')
    })
    await Promise.all([prisma, ours])
    expect(inside).toBe(2)
    expect(await db.setting.count({ where: { key: { in: ['p1', 'p2', 'o1'] } } })).toBe(3)
  })

  it('blocks committed together stay independent: a throwing block is undone alone', async () => {
    const sql = sqlOf(db)
    const results = await Promise.allSettled([
      sql.write(() => put('g1', '1')),
      sql.write(() => {
        put('g2', '2')
        throw new Error('no')
      }),
      sql.write(() => put('g3', '3')),
    ])
    expect(results.map(r => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((await db.setting.findMany({ where: { key: { in: ['g1', 'g2', 'g3'] } }, orderBy: { key: 'asc' } })).map(s => s.key)).toEqual(['g1', 'g3'])
  })

  it('refuses a write outside a write block', () => {
    expect(() => put('x', 'y')).toThrow(/outside a write block/)
  })
})
