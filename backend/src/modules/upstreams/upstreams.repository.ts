/**
 * What the upstreams module keeps in the database: refreshed access tokens (Setting
 * `account-tokens`, one entry per `upstream/account`; same trust as the config file and the saved
 * upstreams), and the asks that count against the accounts' caps after a restart.
 */
import type { Db } from '../../db/client.js'
import type { StoredTokens } from './tokens.js'

const TOKENS_KEY = 'account-tokens'

export function createUpstreamsRepository(db: Db) {
  let tokens: Record<string, StoredTokens> = {}
  let writing: Promise<unknown> = Promise.resolve()

  return {
    async loadTokens(): Promise<Record<string, StoredTokens>> {
      const row = await db.setting.findUnique({ where: { key: TOKENS_KEY } })
      try {
        tokens = row ? JSON.parse(row.value) as Record<string, StoredTokens> : {}
      }
      catch {
        tokens = {}
      }
      return tokens
    },

    storedTokens(key: string): StoredTokens | undefined {
      return tokens[key]
    },

    /** Writes are serialized: concurrent refreshes of different accounts never lose one another. */
    saveTokens(key: string, t: StoredTokens): Promise<void> {
      tokens = { ...tokens, [key]: t }
      const value = JSON.stringify(tokens)
      const next = writing.then(() => db.setting.upsert({ where: { key: TOKENS_KEY }, create: { key: TOKENS_KEY, value }, update: { value } }))
      writing = next.catch(() => {})
      return next.then(() => {})
    },

    /** Start times of asks on an account that produced output (or are running), for each model, since `since`. */
    async capUsage(upstreamId: string, accountId: string, since: Date): Promise<Map<string, number[]>> {
      const rows = await db.ask.findMany({
        where: { upstreamId, accountId, startedAt: { gte: since }, OR: [{ charsOut: { gt: 0 } }, { outcome: 'running' }] },
        select: { model: true, startedAt: true },
      })
      const out = new Map<string, number[]>()
      for (const r of rows) {
        const list = out.get(r.model) ?? []
        list.push(r.startedAt!.getTime())
        out.set(r.model, list)
      }
      return out
    },
  }
}

export type UpstreamsRepository = ReturnType<typeof createUpstreamsRepository>
