import type { StatusResponse } from '@cws/backend/contracts'
import { http } from './http'

/** `GET /api/status`: queue length, in-flight asks, active members, upstream health. */
export function getStatus(signal?: AbortSignal): Promise<StatusResponse> {
  return http.get<StatusResponse>('/status', { signal })
}
