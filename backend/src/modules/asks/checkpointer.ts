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
 * Only rows still `streaming` are touched: a late checkpoint can never overwrite a final answer.
 */
import type { AsksRepository } from './asks.repository.js'

export interface CheckpointerLogger {
  warn: (obj: object, msg?: string) => void
}

const BATCH = 300

export class Checkpointer {
  /** Per answer, the text not yet saved. */
  private dirty = new Map<string, string>()
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

  /** Drops a pending checkpoint (the answer is about to be written in full) and waits for any write in progress. */
  async forget(messageId: string): Promise<void> {
    this.dirty.delete(messageId)
    await this.flushing
    // A write that failed meanwhile put its text back: the final write replaces it anyway.
    this.dirty.delete(messageId)
  }

  flush(): Promise<void> {
    const batch = this.dirty
    this.dirty = new Map()
    if (!batch.size) {
      clearInterval(this.timer)
      this.timer = undefined
      return this.flushing
    }
    this.flushing = this.flushing.then(() => this.write(batch))
    return this.flushing
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
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
        for (const [id, text] of part)
          this.dirty.set(id, text + (this.dirty.get(id) ?? ''))
      }
    }
  }
}
