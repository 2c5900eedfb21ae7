/**
 * The upstreams as the admin sees them (`GET /api/admin/settings/upstreams`): every setting, but
 * never a credential — only whether one is set — and a proxy only as `scheme://host:port`.
 */
import type { AccountConfig, PacingConfig, UpstreamConfig } from '../../config/schema.js'
import type { AccountSetting, PacingSetting, UpstreamSetting } from '../../contracts/settings.js'
import { DEFAULT_OPENAI_BASE } from '../providers/openai/openai.provider.js'
import { parseProxyUrl } from '../upstreams/proxy.js'

/** A proxy URL without its user and password (or path): what the dashboard may show. */
export function redactedProxy(url: string | undefined): string | null {
  if (!url)
    return null
  try {
    return parseProxyUrl(url).safe
  }
  catch {
    return 'invalid proxy URL'
  }
}

export function pacingView(p: PacingConfig | undefined): PacingSetting | null {
  if (!p)
    return null
  const out: PacingSetting = {}
  if (p.min_gap_seconds !== undefined)
    out.minGapSeconds = p.min_gap_seconds
  if (p.per_minute !== undefined)
    out.perMinute = p.per_minute
  if (p.jitter_seconds !== undefined)
    out.jitterSeconds = p.jitter_seconds
  return out
}

function accountView(a: AccountConfig, type: UpstreamConfig['type']): AccountSetting {
  return {
    id: a.id,
    credentialSet: type === 'openai' ? !!a.api_key : !!a.access_token,
    sessionTokenSet: !!a.session_token,
    accountIdSet: !!a.account_id,
    concurrency: a.concurrency ?? null,
    proxy: redactedProxy(a.proxy),
    enabled: a.enabled ?? true,
    caps: Object.fromEntries(Object.entries(a.caps ?? {}).map(([k, c]) => [k, { asks: c.asks, hours: c.hours }])),
    pacing: pacingView(a.pacing),
  }
}

export function upstreamView(u: UpstreamConfig): UpstreamSetting {
  const base = {
    id: u.id,
    type: u.type,
    concurrency: u.concurrency ?? 1,
    timeoutSeconds: u.timeout_seconds ?? 30,
    idleTimeoutSeconds: u.idle_timeout_seconds ?? 120,
    models: (u.models ?? []).map(m => ({ key: m.key, name: m.name, slug: m.slug, ...(m.fallback ? { fallback: m.fallback } : {}) })),
    accounts: u.type === 'demo' ? [] : (u.accounts ?? []).map(a => accountView(a, u.type)),
    proxy: redactedProxy(u.proxy),
    pacing: pacingView(u.pacing),
    capShare: u.cap_share ? { mode: u.cap_share.mode, belowPercent: u.cap_share.below_percent } : null,
  }
  switch (u.type) {
    case 'chatgpt-web':
      return { ...base, baseUrl: u.base_url, credentialSet: !!u.access_token || !!u.session_token, accountIdSet: !!u.account_id, sessionTokenSet: !!u.session_token }
    case 'openai':
      return { ...base, baseUrl: u.base_url ?? DEFAULT_OPENAI_BASE, credentialSet: !!u.api_key, accountIdSet: false, sessionTokenSet: false }
    case 'demo':
      return { ...base, baseUrl: null, speed: u.speed, firstTokenMs: u.first_token_ms, credentialSet: false, accountIdSet: false, sessionTokenSet: false }
  }
}
