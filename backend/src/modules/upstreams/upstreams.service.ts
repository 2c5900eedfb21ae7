/**
 * Everything about the upstreams, in one place (docs/architecture.md, "Upstreams and accounts"):
 * the upstreams in effect, their accounts (one provider each, one health each), the pool and fair
 * queue of each upstream, model routes, and hot reload. The ask pipeline asks it for a route and a
 * place in a pool's queue, and nothing else.
 */
import type { Dispatcher } from 'undici'
import type { ModelConfig, UpstreamConfig } from '../../config/schema.js'
import type { Provider, ProviderLogger } from '../providers/types.js'
import type { ResolvedAccount } from './accounts.js'
import type { StoredTokens } from './tokens.js'
import { createProvider } from '../providers/factory.js'
import { UpstreamState } from '../providers/shared/state.js'
import { Account } from './account.js'
import { accountsOf, sessionUrlOf, upstreamForAccount } from './accounts.js'
import { createCapShares } from './cap-share.js'
import { Pool } from './pool.js'
import { TokenKeeper } from './tokens.js'

export interface ModelRoute {
  upstream: UpstreamConfig
  model: ModelConfig
  /** The upstream's model slug (what goes on the wire). */
  slug: string
  pool: Pool
}

/** A model as members see it. `demo` marks the offline demo upstream. */
export interface ModelEntry {
  key: string
  name: string
  upstreamId: string
  upstreamType: UpstreamConfig['type']
  demo: boolean
  fallback?: string
}

export interface UpstreamsDeps {
  logger?: ProviderLogger
  now: () => Date
  maxDepth: () => number
  maxWaitSeconds: () => number
  /**
   * An account's dispatcher (modules/upstreams/proxy.ts `accountDispatcher`): through its proxy, and
   * `guarded` by the SSRF guard for upstreams saved from the dashboard; undefined = a direct pool.
   */
  dispatcherFor?: (proxyUrl: string | undefined, u: UpstreamConfig, guarded: boolean) => Dispatcher | undefined
  /** Upstreams saved from the dashboard may not reach private addresses (`network.allow_private_upstreams` false). */
  guardDashboard?: boolean
  /** Refreshed access tokens kept across restarts (upstreams.repository.ts). */
  tokens?: { stored: (key: string) => StoredTokens | undefined, save: (key: string, t: StoredTokens) => Promise<void> }
  /** Told when an account was built anew (its state is fresh). */
  onAccount?: (upstream: UpstreamConfig, account: Account) => void
}

export type Upstreams = ReturnType<typeof createUpstreams>

export function createUpstreams(initial: UpstreamConfig[], deps: UpstreamsDeps) {
  let list: UpstreamConfig[] = []
  const pools = new Map<string, Pool>()
  let routes = new Map<string, ModelRoute>()
  /** Accounts by `upstream/account` with the fingerprint of what built them. */
  let built = new Map<string, { account: Account, fingerprint: string }>()
  const nowMs = (): number => deps.now().getTime()
  /** Whether the upstreams in effect are guarded (saved from the dashboard; egress-guard.ts). */
  let guarded = false

  function buildAccount(u: UpstreamConfig, a: ResolvedAccount): Account {
    const view = upstreamForAccount(u, a)
    const state = new UpstreamState(deps.now)
    const dispatcher = deps.dispatcherFor?.(a.proxy, u, guarded)
    const key = `${u.id}/${a.id}`
    const keeper = u.type === 'chatgpt-web'
      ? new TokenKeeper({
          configured: { accessToken: a.access_token, sessionToken: a.session_token },
          sessionUrl: sessionUrlOf(u)!,
          dispatcher,
          timeoutSeconds: u.timeout_seconds ?? 30,
          stored: deps.tokens?.stored(key),
          save: t => deps.tokens?.save(key, t) ?? Promise.resolve(),
          now: deps.now,
          logger: deps.logger,
          onRefreshed: () => state.markOk(),
        })
      : undefined
    const provider: Provider = createProvider(view, { logger: deps.logger, now: deps.now, state, dispatcher, credential: keeper ? () => keeper.current() : undefined })
    const account = new Account(a, provider, state, nowMs)
    account.keeper = keeper
    keeper?.start()
    deps.onAccount?.(u, account)
    return account
  }

  function build(next: UpstreamConfig[], from: { source?: 'config' | 'dashboard' } = {}): void {
    guarded = from.source === 'dashboard' && !!deps.guardDashboard
    // Key order and undefined keys do not make a config different (the dashboard writes its own order).
    const canonical = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).filter(([, y]) => y !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x))
    const keep = new Map<string, { account: Account, fingerprint: string }>()
    for (const u of next) {
      const shared = canonical({ ...u, accounts: undefined, models: undefined, guarded })
      const accounts = accountsOf(u).map((a) => {
        const key = `${u.id}/${a.id}`
        const fingerprint = `${shared}|${canonical(a)}`
        const old = built.get(key)
        const entry = old && old.fingerprint === fingerprint ? old : { account: buildAccount(u, a), fingerprint }
        keep.set(key, entry)
        return entry.account
      })
      const pool = pools.get(u.id)
      if (pool) {
        pool.update(u, accounts)
      }
      else {
        pools.set(u.id, new Pool(u, accounts, { maxDepth: deps.maxDepth(), maxWaitMs: deps.maxWaitSeconds() * 1000, now: nowMs }))
      }
    }
    // Removed upstreams: their waiting asks end; removed or rebuilt accounts release their connections.
    const ids = new Set(next.map(u => u.id))
    for (const [id, pool] of pools) {
      if (!ids.has(id)) {
        pool.close()
        pools.delete(id)
      }
    }
    const kept = new Set([...keep.values()].map(e => e.account))
    for (const { account } of built.values()) {
      if (!kept.has(account)) {
        account.keeper?.stop()
        void account.provider.close?.()
      }
    }
    built = keep
    list = next
    routes = new Map()
    for (const u of next) {
      for (const model of u.models ?? [])
        routes.set(model.key, { upstream: u, model, slug: model.slug, pool: pools.get(u.id)! })
    }
  }
  build(initial)
  const shares = createCapShares({ now: nowMs })

  return {
    /** The upstream, pool and slug behind a model key. */
    route: (modelKey: string): ModelRoute | undefined => routes.get(modelKey),
    /** Every model of every upstream, in configuration order. */
    models: (): ModelEntry[] => list.flatMap(u => (u.models ?? []).map(m => ({
      key: m.key,
      name: m.name,
      upstreamId: u.id,
      upstreamType: u.type,
      demo: u.type === 'demo',
      ...(m.fallback ? { fallback: m.fallback } : {}),
    }))),
    /** The upstream configs in effect. They hold credentials: never serialize them as they are. */
    list: (): UpstreamConfig[] => list,
    pool: (upstreamId: string): Pool | undefined => pools.get(upstreamId),
    /** The member's part of what the group has left of a capped model, while it is split (cap-share.ts). */
    shareOf: shares.shareOf,
    pools: (): Pool[] => list.map(u => pools.get(u.id)!),
    /** An account's provider (conversation management); the first account's when `accountId` is unknown. */
    provider: (upstreamId: string, accountId?: string | null): Provider | undefined => {
      const pool = pools.get(upstreamId)
      return (pool?.account(accountId) ?? pool?.accounts[0])?.provider
    },
    /**
     * Replaces the upstream set (settings hot reload). Accounts whose config is unchanged are kept,
     * with their state. `source: 'dashboard'` puts them behind the SSRF guard (egress-guard.ts).
     */
    reload: build,
    /** Releases every provider's connections. */
    close: async (): Promise<void> => {
      for (const pool of pools.values()) pool.close()
      for (const { account } of built.values()) account.keeper?.stop()
      await Promise.all([...built.values()].map(e => e.account.provider.close?.({ force: true })))
    },
  }
}
