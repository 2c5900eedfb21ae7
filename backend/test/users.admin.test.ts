import type { LightMyRequestResponse } from 'fastify'
import type { TestApp, TestSession } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, buildTestApp, createUser, injectAs, loginAs } from './helper.js'

describe('admin API: /api/admin/users', () => {
  let t: TestApp
  let admin: TestSession
  let adminId: number
  const seen: LightMyRequestResponse[] = []

  const as = async (s: TestSession, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) => {
    const res = await injectAs(t.app, s, { method, url, ...(payload === undefined ? {} : { payload: payload as object }) })
    seen.push(res)
    return res
  }

  beforeAll(async () => {
    t = await buildTestApp()
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    adminId = admin.user.id
  })
  afterAll(() => t.close())

  it('creates a member whose password works exactly as typed; the username is stored in lower case', async () => {
    const password = '  Pässwörd with spaces ☕ '
    const res = await as(admin, 'POST', '/api/admin/users', { username: 'NewGuy', password, nickname: 'New Guy', remark: 'from the lab' })
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject({ username: 'newguy', nickname: 'New Guy', role: 'member', enabled: true, remark: 'from the lab', activeSessions: 0, lastActiveAt: null })
    await expect(loginAs(t.app, 'newguy', password.trim())).rejects.toThrow(/401/)
    const s = await loginAs(t.app, 'NEWGUY', password)
    expect(s.user.username).toBe('newguy')
    const again = await as(admin, 'GET', `/api/admin/users/${res.json().id}`)
    expect(again.json().activeSessions).toBe(1)
  })

  it('refuses taken usernames, weak passwords, bad usernames and unknown fields', async () => {
    const taken = await as(admin, 'POST', '/api/admin/users', { username: 'NEWGUY', password: 'another-fine-pass' })
    expect([taken.statusCode, taken.json().code]).toEqual([409, 'USERNAME_TAKEN'])
    for (const password of ['1234567', 'password123', 'Password', 'aaaaaaaaaaaa', 'weakling', 'x'.repeat(129)]) {
      const username = password === 'weakling' ? 'weakling' : 'someone'
      const res = await as(admin, 'POST', '/api/admin/users', { username, password })
      expect([res.statusCode, res.json().code], password).toEqual([400, 'WEAK_PASSWORD'])
    }
    const badName = await as(admin, 'POST', '/api/admin/users', { username: 'has space', password: 'a-fine-password' })
    expect([badName.statusCode, badName.json().code]).toEqual([400, 'VALIDATION_FAILED'])
    const extra = await as(admin, 'POST', '/api/admin/users', { username: 'extra', password: 'a-fine-password', is_superuser: true })
    expect([extra.statusCode, extra.json().code]).toEqual([400, 'VALIDATION_FAILED'])
    expect(await t.app.db.user.count({ where: { username: { in: ['someone', 'weakling', 'extra'] } } })).toBe(0)
  })

  it('lists with search, pagination and sorting by last activity', async () => {
    await createUser(t.app, { username: 'zoe', nickname: 'Zoe Lab' })
    await createUser(t.app, { username: 'yann', nickname: 'Yann' })
    const all = await as(admin, 'GET', '/api/admin/users?sort=username&pageSize=2&page=1')
    expect(all.statusCode).toBe(200)
    expect(all.json()).toMatchObject({ total: 4, page: 1, pageSize: 2 })
    expect(all.json().items.map((u: any) => u.username)).toEqual(['admin', 'newguy'])
    const page2 = await as(admin, 'GET', '/api/admin/users?sort=username&pageSize=2&page=2')
    expect(page2.json().items.map((u: any) => u.username)).toEqual(['yann', 'zoe'])

    const search = await as(admin, 'GET', '/api/admin/users?q=lab')
    expect(search.json().items.map((u: any) => u.username)).toEqual(['zoe'])
    expect(search.json().total).toBe(1)

    // newguy logged in after admin; zoe and yann never did and come last.
    const active = await as(admin, 'GET', '/api/admin/users')
    const names = active.json().items.map((u: any) => u.username)
    expect(names.slice(0, 2)).toEqual(['newguy', 'admin'])
    expect(names.slice(2).sort()).toEqual(['yann', 'zoe'])

    expect((await as(admin, 'GET', '/api/admin/users?pageSize=1000')).statusCode).toBe(400)
    expect((await as(admin, 'GET', '/api/admin/users?sort=password')).statusCode).toBe(400)
  })

  it('reads one user; unknown ids are 404 and malformed ids 400', async () => {
    const list = (await as(admin, 'GET', '/api/admin/users?q=yann')).json().items
    const res = await as(admin, 'GET', `/api/admin/users/${list[0].id}`)
    expect(res.json()).toMatchObject({ username: 'yann', nickname: 'Yann' })
    expect((await as(admin, 'GET', '/api/admin/users/424242')).statusCode).toBe(404)
    expect((await as(admin, 'GET', '/api/admin/users/abc')).statusCode).toBe(400)
  })

  it('promotes and demotes with effect on the next request; resets a password and ends the member\'s sessions', async () => {
    const { user, password } = await createUser(t.app, { username: 'pat' })
    const pat = await loginAs(t.app, 'pat', password)
    expect((await as(pat, 'GET', '/api/admin/users')).statusCode).toBe(403)
    const up = await as(admin, 'PATCH', `/api/admin/users/${user.id}`, { role: 'admin', nickname: 'Pat', remark: 'helps out' })
    expect(up.json()).toMatchObject({ role: 'admin', nickname: 'Pat', remark: 'helps out' })
    expect((await as(pat, 'GET', '/api/admin/users')).statusCode).toBe(200)
    await as(admin, 'PATCH', `/api/admin/users/${user.id}`, { role: 'member' })
    expect((await as(pat, 'GET', '/api/admin/users')).statusCode).toBe(403)

    const weak = await as(admin, 'PATCH', `/api/admin/users/${user.id}`, { password: 'qwerty123' })
    expect(weak.json().code).toBe('WEAK_PASSWORD')
    const reset = await as(admin, 'PATCH', `/api/admin/users/${user.id}`, { password: 'brand-new-secret-9' })
    expect(reset.statusCode).toBe(200)
    expect((await as(pat, 'GET', '/api/me')).statusCode).toBe(401)
    await expect(loginAs(t.app, 'pat', password)).rejects.toThrow(/401/)
    await loginAs(t.app, 'pat', 'brand-new-secret-9')
  })

  it('does not let an admin delete, disable or demote themself', async () => {
    for (const [method, payload] of [['PATCH', { enabled: false }], ['PATCH', { role: 'member' }], ['DELETE', undefined]] as const) {
      const res = await as(admin, method, `/api/admin/users/${adminId}`, payload)
      expect([res.statusCode, res.json().code], `${method} ${JSON.stringify(payload)}`).toEqual([409, 'CANNOT_MODIFY_SELF'])
    }
    const me = await as(admin, 'GET', '/api/me')
    expect(me.json().user).toMatchObject({ role: 'admin', enabled: true })
    // Harmless self-edits are fine.
    expect((await as(admin, 'PATCH', `/api/admin/users/${adminId}`, { nickname: 'Boss', role: 'admin' })).statusCode).toBe(200)
  })

  it('deletes a member with their sessions and conversations (and messages), and nothing of anyone else', async () => {
    const { user, password } = await createUser(t.app, { username: 'leaver' })
    await loginAs(t.app, 'leaver', password)
    const db = t.app.db
    for (const [id, userId] of [['conv-leaver', user.id], ['conv-admin', adminId]] as const) {
      await db.conversation.create({ data: { id, userId, title: id, model: 'demo', upstreamId: 'demo' } })
      await db.message.create({ data: { id: `${id}-m1`, conversationId: id, role: 'user', content: 'hi', model: 'demo' } })
    }
    const del = await as(admin, 'DELETE', `/api/admin/users/${user.id}`)
    expect(del.statusCode).toBe(204)
    expect(del.body).toBe('')
    expect(await db.user.findUnique({ where: { id: user.id } })).toBeNull()
    expect(await db.session.count({ where: { userId: user.id } })).toBe(0)
    expect(await db.conversation.count({ where: { userId: user.id } })).toBe(0)
    expect(await db.message.count({ where: { conversationId: 'conv-leaver' } })).toBe(0)
    expect(await db.conversation.count({ where: { id: 'conv-admin' } })).toBe(1)
    expect((await as(admin, 'DELETE', `/api/admin/users/${user.id}`)).statusCode).toBe(404)
  })

  it('forbids a member to read another member through the admin API', async () => {
    const { password } = await createUser(t.app, { username: 'nosy' })
    const nosy = await loginAs(t.app, 'nosy', password)
    const zoe = (await as(admin, 'GET', '/api/admin/users?q=zoe')).json().items[0]
    const res = await as(nosy, 'GET', `/api/admin/users/${zoe.id}`)
    expect([res.statusCode, res.json().code]).toEqual([403, 'FORBIDDEN'])
    expect(res.body).not.toContain('zoe')
  })

  it('never sent a password hash, a password or a token in any answer above', () => {
    expect(seen.length).toBeGreaterThan(20)
    for (const res of seen) {
      expect(res.body).not.toMatch(/\$scrypt\$|passwordHash|brand-new-secret|Pässwörd/)
      expect(res.body).not.toContain(admin.token)
    }
  })
})
