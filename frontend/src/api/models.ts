import type { ModelsResponse } from '@cws/backend/contracts'
import { http } from './http'

/** `GET /api/models`: models this member may use, what remains of each, and why one is unavailable. */
export function listModels(): Promise<ModelsResponse> {
  return http.get<ModelsResponse>('/models')
}
