/**
 * Every long-lived response (an ask's stream, the admin's live log) is tied to the session and the
 * role it was opened with. When the session ends (logout, "log out everywhere", a password change or
 * reset, the member disabled or deleted) or the role no longer allows it (an admin demoted), its
 * streams are closed at once, each told why. See docs/architecture.md, "Sessions and open streams".
 */
import type { Role } from '../../contracts/auth.js'

/** Why a stream was closed: an error code the SPA translates, and a message. */
export interface StreamEnd {
  code: 'SESSION_ENDED' | 'ACCOUNT_DISABLED' | 'FORBIDDEN'
  message: string
}

export interface StreamOwner {
  id: number
  sessionId: string
}

interface Entry {
  userId: number
  sessionId: string
  /** The role the stream needs (an admin stream closes when its user stops being an admin). */
  needs?: Role
  close: (end: StreamEnd) => void
}

export const ENDS = {
  session: { code: 'SESSION_ENDED', message: 'This session has ended; log in again to go on.' },
  disabled: { code: 'ACCOUNT_DISABLED', message: 'This account was disabled by an administrator.' },
  notAdmin: { code: 'FORBIDDEN', message: 'Only an administrator may see this.' },
} as const satisfies Record<string, StreamEnd>

/** A change of account the streams must follow. */
export type AccountChange
  = | { type: 'sessions-ended', userId: number, sessionId?: string, exceptSessionId?: string }
    | { type: 'role-changed', userId: number, role: Role }
    | { type: 'disabled', userId: number }
    | { type: 'deleted', userId: number }

export class LiveStreams {
  private readonly entries = new Set<Entry>()
  private readonly listeners: Array<(c: AccountChange) => void> = []

  /** Registers an open stream; returns what to call when it ends by itself. */
  open(owner: StreamOwner, opts: { needs?: Role }, close: (end: StreamEnd) => void): () => void {
    const e: Entry = { userId: owner.id, sessionId: owner.sessionId, needs: opts.needs, close }
    this.entries.add(e)
    return () => void this.entries.delete(e)
  }

  /** Other modules that follow account changes (the ask pipeline stops a disabled member's asks). */
  onChange(fn: (c: AccountChange) => void): void {
    this.listeners.push(fn)
  }

  /** An account changed: close the streams that no longer stand, then tell the other modules. */
  changed(c: AccountChange): void {
    for (const e of [...this.entries]) {
      if (e.userId !== c.userId)
        continue
      const end = this.endFor(e, c)
      if (end) {
        this.entries.delete(e)
        try {
          e.close(end)
        }
        catch {}
      }
    }
    for (const l of this.listeners) l(c)
  }

  private endFor(e: Entry, c: AccountChange): StreamEnd | undefined {
    switch (c.type) {
      case 'sessions-ended':
        if (c.sessionId !== undefined)
          return e.sessionId === c.sessionId ? ENDS.session : undefined
        return e.sessionId === c.exceptSessionId ? undefined : ENDS.session
      case 'role-changed':
        return e.needs === 'admin' && c.role !== 'admin' ? ENDS.notAdmin : undefined
      case 'disabled':
      case 'deleted':
        return ENDS.disabled
    }
  }
}
