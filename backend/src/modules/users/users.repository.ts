import type { UserSort } from '../../contracts/users.js'
import type { Db } from '../../db/client.js'
import type { Prisma, User } from '../../generated/prisma/client.js'

type Tx = Db | Prisma.TransactionClient

export interface NewUser {
  username: string
  passwordHash: string
  nickname: string
  role: 'admin' | 'member'
  remark: string
  now: Date
}

export type UserPatch = Partial<Pick<User, 'nickname' | 'role' | 'enabled' | 'remark' | 'preferences' | 'passwordHash' | 'passwordChangedAt'>>

const ORDER: Record<UserSort, Prisma.UserOrderByWithRelationInput[]> = {
  lastActive: [{ lastActiveAt: { sort: 'desc', nulls: 'last' } }, { id: 'asc' }],
  created: [{ createdAt: 'desc' }, { id: 'desc' }],
  username: [{ username: 'asc' }],
}

/** The only code that touches the User table. Usernames are stored in lower case. */
export function createUsersRepository(db: Db) {
  return {
    count(tx: Tx = db): Promise<number> {
      return tx.user.count()
    },

    findById(id: number, tx: Tx = db): Promise<User | null> {
      return tx.user.findUnique({ where: { id } })
    },

    findByUsername(username: string, tx: Tx = db): Promise<User | null> {
      return tx.user.findUnique({ where: { username } })
    },

    create(u: NewUser, tx: Tx = db): Promise<User> {
      return tx.user.create({
        data: { username: u.username, passwordHash: u.passwordHash, nickname: u.nickname, role: u.role, remark: u.remark, createdAt: u.now, passwordChangedAt: u.now },
      })
    },

    update(id: number, patch: UserPatch, tx: Tx = db): Promise<User> {
      return tx.user.update({ where: { id }, data: patch })
    },

    /** Deletes the user; their sessions, conversations (with messages), ask log and limits cascade. */
    async delete(id: number, tx: Tx = db): Promise<boolean> {
      const { count } = await tx.user.deleteMany({ where: { id } })
      return count > 0
    },

    async list(opts: { q?: string, sort: UserSort, skip: number, take: number }, tx: Tx = db): Promise<{ rows: User[], total: number }> {
      const q = opts.q?.trim()
      const where: Prisma.UserWhereInput = q ? { OR: [{ username: { contains: q.toLowerCase() } }, { nickname: { contains: q } }] } : {}
      const [rows, total] = await Promise.all([
        tx.user.findMany({ where, orderBy: ORDER[opts.sort], skip: opts.skip, take: opts.take }),
        tx.user.count({ where }),
      ])
      return { rows, total }
    },
  }
}

export type UsersRepository = ReturnType<typeof createUsersRepository>
