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
 * What is written is kept as the pieces that came (the same strings the channel's text is made of)
 * and handed to SQLite as UTF-8 bytes encoded piece by piece (`utf8Of`): binding a string of joined
 * pieces made V8 flatten it, a copy of the unsaved text at two bytes a character that stayed in
 * the heap until the next major GC (the backpressure soak: +60–90 MB when 20 large answers were
 * checkpointed or ended together).
 *
 * Only rows still `streaming` are touched: a late checkpoint can never overwrite a final answer.
 */
import type { AsksRepository } from './asks.repository.js'
import { utf8Of } from '../../lib/text.js'

export interface CheckpointerLogger {
  warn: (obj: object, msg?: string) => void
}

const BATCH = 300
/** UTF-16 code units: past this, a checkpoint waits until the new text is half of what is saved. */
export const LARGE = 256 * 1024

/** Text not yet saved: its pieces, and their length in UTF-16 units. */
interface Unsaved { pieces: string[], length: number }

export class Checkpointer {
  /** Per answer, the text not yet saved. */
  private dirty = new Map<string, Unsaved>()
  /** Per answer, how much of its text this checkpointer has saved. */
  private saved = new Map<string, number>()
  private timer: ReturnType<typeof setInterval> | undefined
  private flushing: Promise<void> = Promise.resolve()

  constructor(private readonly repo: Pick<AsksRepository, 'checkpoint'>, private readonly log: CheckpointerLogger, private readonly intervalMs = 1000) {}

  /** Records text that was just added to the end of a streaming answer. */
  append(messageId: string, text: string): void {
    const d = this.dirty.get(messageId)
    if (d) {
      d.pieces.push(text)
      d.length += text.length
    }
    else {
      this.dirty.set(messageId, { pieces: [text], length: text.length })
    }
    if (!this.timer) {
      this.timer = setInterval(() => void this.flush(), this.intervalMs)
      this.timer.unref?.()
    }
  }

  /**
   * The answer is ending: waits for any write in progress and hands over the text not yet saved
   * (the final write appends it) as UTF-8, forgetting the answer.
   */
  async take(messageId: string): Promise<Uint8Array> {
    await this.flushing
    // A write that failed meanwhile put its text back in front: it is part of what is handed over.
    const rest = utf8Of(this.dirty.get(messageId)?.pieces ?? [])
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
    const batch = new Map<string, Unsaved>()
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

  private async write(batch: Map<string, Unsaved>): Promise<void> {
    const entries = [...batch]
    for (let i = 0; i < entries.length; i += BATCH) {
      const part = entries.slice(i, i + BATCH)
      try {
        await this.repo.checkpoint(part.map(([id, text]) => [id, utf8Of(text.pieces)]))
      }
      catch (err) {
        this.log.warn({ err, count: part.length }, 'checkpoint of streaming answers failed')
        // Not written: saved with the next checkpoint, before what came since.
        for (const [id, text] of part) {
          const since = this.dirty.get(id)
          this.dirty.set(id, since ? { pieces: [...text.pieces, ...since.pieces], length: text.length + since.length } : text)
          this.saved.set(id, (this.saved.get(id) ?? text.length) - text.length)
        }
      }
    }
  }
}
