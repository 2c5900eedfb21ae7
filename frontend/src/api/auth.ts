import type { LoginBody, LoginResponse, MeResponse, UpdateMeBody } from '@cws/backend/contracts'
import { http } from './http'

/** `POST /api/auth/login`: sets the HttpOnly session cookie; the body carries the user. */
export function login(body: LoginBody): Promise<LoginResponse> {
  return http.post<LoginResponse>('/auth/login', body)
}

/** `POST /api/auth/logout`: revokes this session. */
export function logout(): Promise<void> {
  return http.post<void>('/auth/logout')
}

/** `GET /api/me`: the profile and limits; 401 when logged out. */
export function fetchMe(): Promise<MeResponse> {
  return http.get<MeResponse>('/me')
}

/** `PATCH /api/me`: nickname, preferences, password change. */
export function updateMe(body: UpdateMeBody): Promise<MeResponse> {
  return http.patch<MeResponse>('/me', body)
}
