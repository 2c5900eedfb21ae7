/**
 * Saves the text of answers being streamed about once a second, all of them in a few batched
 * statements (one short write per ~300 answers), so a crash loses at most the last second of text
 * and 1000 concurrent streams do not mean 1000 writes a second.
 *
 * Only the text that came since the last checkpoint is written (appended to the stored row): a
 * checkpoint never builds, copies or sends the whole answer, which for a long, fast answer was a new
 * multi-megabyte string every second (docs/architecture.md, "Persistence"). A write that failed
 * puts its text back in front of what came since, so the stored text never has a hole.
 *
 * SQLite rewrites a whole row on every update, so an answer past `LARGE` characters is saved only
 * once what came since is at least half of what is saved: the work (and the transient memory of
 * SQLite's and the binding's copies of the row) stays proportional to the text that comes in,
 * instead of growing with the answer each second. A real model needs the better part of an hour to
 * write that much; a fast upstream (the backpressure soak suite) gets there in seconds.
 *
 * The final write appends what no checkpoint saved yet (`take`), so an answer's whole text is never
 * copied out of V8 either (a long answer is a rope of pieces; handing it to SQLite would flatten it).
 *
 * Only rows still `streaming` are touched: a late checkpoint can never overwrite a final answer.
 */
import type { AsksRepository } from './asks.repository.js'

export interface CheckpointerLogger {
  warn: (obj: object, msg?: string) => void
}

const BATCH = 300
/** UTF-16 code units: past this, a checkpoint waits until the new text is half of what is saved. */
export const LARGE = 256 * 1024

export class Checkpointer {
  /** Per answer, the text not yet saved. */
  private dirty = new Map<string, string>()
  /** Per answer, how much of its text this checkpointer has saved. */
  private saved = new Map<string, number>()
  private timer: ReturnType<typeof setInterval> | undefined
  private flushing: Promise<void> = Promise.resolve()

  constructor(private readonly repo: Pick<AsksRepository, 'checkpoint'>, private readonly log: CheckpointerLogger, private readonly intervalMs = 1000) {}

  /** Records text that was just added to the end of a streaming answer. */
  append(messageId: string, text: string): void {
    this.dirty.set(messageId, (this.dirty.get(messageId) ?? '') + text)
    if (!this.timer) {
      this.timer = setInterval(() => void this.flush(), this.intervalMs)
      this.timer.unref?.()
    }
  }

  /**
   * The answer is ending: waits for any write in progress and hands over the text not yet saved
   * (the final write appends it), forgetting the answer.
   */
  async take(messageId: string): Promise<string> {
    await this.flushing
    // A write that failed meanwhile put its text back in front: it is part of what is handed over.
    const rest = this.dirty.get(messageId) ?? ''
    this.dirty.delete(messageId)
    this.saved.delete(messageId)
    return rest
  }

  /** Writes what is due (`all`: everything pending, e.g. at shutdown). */
  flush(all = false): Promise<void> {
    if (!this.dirty.size) {
      clearInterval(this.timer)
      this.timer = undefined
      return this.flushing
    }
    const batch = new Map<string, string>()
    for (const [id, text] of this.dirty) {
      const saved = this.saved.get(id) ?? 0
      if (all || saved < LARGE || text.length * 2 >= saved) {
        batch.set(id, text)
        this.dirty.delete(id)
        this.saved.set(id, saved + text.length)
      }
    }
    if (!batch.size)
      return this.flushing
    this.flushing = this.flushing.then(() => this.write(batch))
    return this.flushing
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.flush(true)
  }

  private async write(batch: Map<string, string>): Promise<void> {
    const entries = [...batch]
    for (let i = 0; i < entries.length; i += BATCH) {
      const part = entries.slice(i, i + BATCH)
      try {
        await this.repo.checkpoint(part)
      }
      catch (err) {
        this.log.warn({ err, count: part.length }, 'checkpoint of streaming answers failed')
        // Not written: saved with the next checkpoint, before what came since.
        for (const [id, text] of part) {
          this.dirty.set(id, text + (this.dirty.get(id) ?? ''))
          this.saved.set(id, (this.saved.get(id) ?? text.length) - text.length)
        }
      }
    }
  }
}
