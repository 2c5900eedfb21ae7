/**
 * Prisma's schema engine (the wasm build matching prisma 7.10.0), used at development time only:
 * to write the next migration's SQL (`pnpm db:migration <name>`) and, in tests, to prove that the
 * committed migrations produce exactly `schema.prisma`. The server itself applies committed SQL with
 * src/db/migrate.ts and never loads this.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils'

const here = path.dirname(fileURLToPath(import.meta.url))
export const prismaDir = path.resolve(here, '../prisma')
export const migrationsDir = path.join(prismaDir, 'migrations')
export const schemaFile = path.join(prismaDir, 'schema.prisma')

const require = createRequire(import.meta.url)

interface Engine {
  diff: (p: unknown) => Promise<{ exitCode: number, stdout: string | null }>
  free: () => void
}

let bg: any

async function loadWasm(): Promise<any> {
  if (bg)
    return bg
  const bgFile = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')
  const pkgDir = path.dirname(bgFile)
  const mod = await import('@prisma/schema-engine-wasm/schema_engine_bg')
  const bytes = readFileSync(path.join(pkgDir, 'schema_engine_bg.wasm'))
  const { instance } = await (globalThis as any).WebAssembly.instantiate(bytes, { './schema_engine_bg.js': mod })
  mod.__wbg_set_wasm(instance.exports)
  ;(instance.exports as any).__wbindgen_start?.()
  bg = mod
  return bg
}

export function migrationList() {
  const dirs = existsSync(migrationsDir)
    ? readdirSync(migrationsDir, { withFileTypes: true }).filter(d => d.isDirectory()).map(d => d.name).sort()
    : []
  const lockPath = path.join(migrationsDir, 'migration_lock.toml')
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: dirs.map(name => ({
      path: name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: readFileSync(path.join(migrationsDir, name, 'migration.sql'), 'utf8') } },
    })),
  }
}

/** SQL that takes a database from the committed migrations to `schema.prisma` ('' when none). */
export async function diffMigrationsToSchema(schema = readFileSync(schemaFile, 'utf8')): Promise<string> {
  const mod = await loadWasm()
  // Shadow databases for replaying migrations live in memory.
  const factory = new PrismaBetterSqlite3({ url: ':memory:' }) as any
  // Multi-statement migration files arrive as executeRaw without args; route them to executeScript.
  const wrapped = {
    ...factory,
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => wrap(await factory.connect()),
    connectToShadowDb: async () => wrap(await factory.connect()),
  }
  const adapter = bindMigrationAwareSqlAdapterFactory(wrapped as any)
  const engine: Engine = await mod.SchemaEngine.new({ datamodels: [[schemaFile, schema]] }, () => {}, adapter)
  try {
    const res = await engine.diff({
      from: { tag: 'migrations', ...migrationList() },
      to: { tag: 'schemaDatamodel', files: [{ path: schemaFile, content: schema }] },
      script: true,
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    })
    return res.exitCode === 2 ? (res.stdout ?? '') : ''
  }
  finally {
    engine.free()
  }
}

function wrap(conn: any): any {
  return new Proxy(conn, {
    get(target, prop) {
      if (prop === 'executeRaw') {
        return async (q: { sql: string, args: unknown[] }) => {
          if (!q.args?.length && /;\s*\S/.test(q.sql)) {
            await target.executeScript(q.sql)
            return 0
          }
          return target.executeRaw(q)
        }
      }
      const v = target[prop]
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
}
