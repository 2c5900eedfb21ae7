import type { UsersService } from './users.service.js'
import process from 'node:process'
import fp from 'fastify-plugin'
import { createUsersRepository } from './users.repository.js'
import { createUsersService } from './users.service.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Members: the admin's user management and each member's own profile. */
    users: UsersService
  }
}

function banner(username: string, password: string): string {
  const lines = [
    'ChatGPT Web Share: the first admin account was created.',
    '',
    `  username: ${username}`,
    `  password: ${password}`,
    '',
    'This password is shown only this once and is not written to any log.',
    'Log in and change it (profile → password), or set admin.password before the first start.',
  ]
  const width = Math.max(...lines.map(l => l.length)) + 4
  const rule = '='.repeat(width)
  return `\n${rule}\n${lines.map(l => `  ${l}`).join('\n')}\n${rule}\n\n`
}

/** The users module. Creates the first admin on an empty database (its password printed once, to stdout). */
export default fp(async (app) => {
  const users = createUsersService({
    repo: createUsersRepository(app.db),
    sessions: app.sessions,
    throttle: app.loginThrottle,
    now: app.now,
    onChanged: (c) => {
      if (c.deleted)
        app.liveStreams.changed({ type: 'deleted', userId: c.userId })
      else if (c.disabled)
        app.liveStreams.changed({ type: 'disabled', userId: c.userId })
      if (c.role)
        app.liveStreams.changed({ type: 'role-changed', userId: c.userId, role: c.role })
    },
  })
  app.decorate('users', users)
  const created = await users.ensureFirstAdmin(app.config.admin, (username, password) => {
    // stdout, not the logger: the generated password must not end up in the log file.
    process.stdout.write(banner(username, password))
  })
  if (created)
    app.log.info({ username: created.username }, 'first admin created')
}, { name: 'users', dependencies: ['db', 'auth'] })
