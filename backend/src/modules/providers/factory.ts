import type { UpstreamConfig } from '../../config/schema.js'
import type { Provider, ProviderDeps } from './types.js'
import { createChatgptWebProvider } from './chatgpt-web/chatgpt-web.provider.js'
import { createDemoProvider } from './demo/demo.provider.js'
import { createOpenaiProvider } from './openai/openai.provider.js'

/** The adapter for one account of an upstream (modules/upstreams builds one per account). */
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
