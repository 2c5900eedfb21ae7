import type { ModelConfig, UpstreamConfig } from '../../config/schema.js'
import type { Provider, ProviderDeps } from './types.js'
import { createChatgptWebProvider } from './chatgpt-web/chatgpt-web.provider.js'
import { createDemoProvider } from './demo/demo.provider.js'
import { createOpenaiProvider } from './openai/openai.provider.js'

export interface ModelRoute {
  provider: Provider
  upstream: UpstreamConfig
  model: ModelConfig
  /** The upstream's model slug (what goes on the wire). */
  slug: string
}

/** A model as members see it. `demo` marks the offline demo upstream. */
export interface ModelEntry {
  key: string
  name: string
  upstreamId: string
  upstreamType: UpstreamConfig['type']
  demo: boolean
}

export interface ProviderRegistry {
  /** The provider for an upstream id. */
  get: (upstreamId: string) => Provider | undefined
  /** The provider, upstream and slug behind a model key. */
  byModel: (modelKey: string) => ModelRoute | undefined
  /** Every model of every upstream, in configuration order. */
  models: () => ModelEntry[]
  /** The upstream configs in effect. They hold credentials: never serialize them as they are. */
  upstreams: () => UpstreamConfig[]
  /** Replaces the upstream set (settings hot-reload). Providers whose config is unchanged are kept, with their health. */
  reload: (upstreams: UpstreamConfig[]) => void
  /** Releases every provider's connections. */
  close: () => Promise<void>
}

export function createProvider(upstream: UpstreamConfig, deps: ProviderDeps = {}): Provider {
  switch (upstream.type) {
    case 'demo':
      return createDemoProvider(upstream)
    case 'chatgpt-web':
      return createChatgptWebProvider(upstream, deps)
    case 'openai':
      return createOpenaiProvider(upstream, deps)
  }
}

/** Builds one provider per upstream (already filled by `effectiveUpstreams`). */
export function createProviders(upstreams: UpstreamConfig[], deps: ProviderDeps = {}): ProviderRegistry {
  let entries: Array<{ upstream: UpstreamConfig, provider: Provider, fingerprint: string }> = []
  let routes = new Map<string, ModelRoute>()

  const build = (list: UpstreamConfig[]): void => {
    const previous = new Map(entries.map(e => [e.upstream.id, e]))
    entries = list.map((upstream) => {
      const fingerprint = JSON.stringify(upstream)
      const old = previous.get(upstream.id)
      if (old && old.fingerprint === fingerprint)
        return { ...old, upstream }
      return { upstream, provider: createProvider(upstream, deps), fingerprint }
    })
    const kept = new Set(entries.map(e => e.provider))
    for (const old of previous.values()) {
      if (!kept.has(old.provider))
        void old.provider.close?.()
    }
    routes = new Map()
    for (const { upstream, provider } of entries) {
      for (const model of upstream.models ?? [])
        routes.set(model.key, { provider, upstream, model, slug: model.slug })
    }
  }
  build(upstreams)

  return {
    get: id => entries.find(e => e.upstream.id === id)?.provider,
    byModel: key => routes.get(key),
    models: () => entries.flatMap(({ upstream }) => (upstream.models ?? []).map(m => ({
      key: m.key,
      name: m.name,
      upstreamId: upstream.id,
      upstreamType: upstream.type,
      demo: upstream.type === 'demo',
    }))),
    upstreams: () => entries.map(e => e.upstream),
    reload: build,
    close: async () => {
      await Promise.all(entries.map(e => e.provider.close?.({ force: true })))
    },
  }
}
