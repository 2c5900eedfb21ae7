import type { SaveUpstreamsBody, UpstreamSettings } from '@cws/backend/contracts'
import { http } from './http'

// ── Upstreams (`/api/admin/settings/upstreams`) ──

/** The upstreams in effect, where they come from, and whether each has a credential (never the credential). */
export function getUpstreams(signal?: AbortSignal): Promise<UpstreamSettings> {
  return http.get<UpstreamSettings>('/admin/settings/upstreams', { signal })
}

/**
 * Replaces the whole list (in order) and applies it at once. A credential left out keeps the one the
 * upstream with the same id has; VALIDATION_FAILED carries every problem in `details`.
 */
export function saveUpstreams(body: SaveUpstreamsBody): Promise<UpstreamSettings> {
  return http.put<UpstreamSettings>('/admin/settings/upstreams', body)
}

/** Drops the dashboard's list: back to the config file / environment, applied at once. */
export function revertUpstreams(): Promise<UpstreamSettings> {
  return http.delete<UpstreamSettings>('/admin/settings/upstreams')
}
