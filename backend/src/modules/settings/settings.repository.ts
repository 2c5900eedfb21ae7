import type { Db } from '../../db/client.js'

/** Named JSON values in the Setting table, with when they were last written. */
export function createSettingsRepository(db: Db) {
  return {
    async read(key: string): Promise<{ value: unknown, updatedAt: Date } | undefined> {
      const row = await db.setting.findUnique({ where: { key } })
      if (!row)
        return undefined
      try {
        return { value: JSON.parse(row.value) as unknown, updatedAt: row.updatedAt }
      }
      catch {
        return { value: undefined, updatedAt: row.updatedAt }
      }
    },

    async write(key: string, value: unknown): Promise<Date> {
      const json = JSON.stringify(value)
      const row = await db.setting.upsert({ where: { key }, create: { key, value: json }, update: { value: json } })
      return row.updatedAt
    },

    async remove(key: string): Promise<void> {
      await db.setting.deleteMany({ where: { key } })
    },
  }
}

export type SettingsRepository = ReturnType<typeof createSettingsRepository>
