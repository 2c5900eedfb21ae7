/**
 * Text arriving in pieces (an answer's deltas), written to its target at most once per animation
 * frame: the growing message re-renders once a frame however many pieces came (STYLE.md rule 13).
 */
export interface FrameBuffer {
  append: (text: string) => void
  /** What follows replaces the target's text instead of adding to it (a snapshot of the whole text). */
  replaceNext: () => void
  /** Writes what is held now. */
  flush: () => void
}

const requestFrame: (cb: () => void) => number = typeof requestAnimationFrame === 'function'
  ? cb => requestAnimationFrame(() => cb())
  : cb => setTimeout(cb, 16) as unknown as number
const cancelFrame: (id: number) => void = typeof cancelAnimationFrame === 'function'
  ? id => cancelAnimationFrame(id)
  : id => clearTimeout(id)

/** `write(text, replace)` is called at most once a frame, and only when there is something to write. */
export function createFrameBuffer(write: (text: string, replace: boolean) => void): FrameBuffer {
  let pending = ''
  let replace = false
  let frame = 0

  function flush(): void {
    if (frame) {
      cancelFrame(frame)
      frame = 0
    }
    if (!pending && !replace)
      return
    const text = pending
    const whole = replace
    pending = ''
    replace = false
    write(text, whole)
  }

  function schedule(): void {
    if (!frame) {
      frame = requestFrame(() => {
        frame = 0
        flush()
      })
    }
  }

  return {
    append(text) {
      pending += text
      schedule()
    },
    replaceNext() {
      pending = ''
      replace = true
      schedule()
    },
    flush,
  }
}
