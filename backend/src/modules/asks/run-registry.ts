/**
 * The asks alive in this process: running or waiting ones by id, the one conversation each writes
 * (one answer at a time per conversation), and the detach grace — an ask nobody listens to keeps
 * going for `graceSeconds`, then it is stopped as "interrupted". Finished asks stay attachable for
 * a minute (exact replay); after that, listeners get the stored state. See docs/architecture.md.
 */
import type { AskChannel } from '../streams/channel.js'
import type { AskRun } from './ask-run.js'
import { AppError } from '../../lib/errors.js'

/** How long a finished ask's channel is kept for listeners that come back right after its end. */
const LINGER_MS = 60_000

interface Ended { userId: number, channel: AskChannel, timer: ReturnType<typeof setTimeout> }

export interface RunRegistryOptions {
  graceSeconds: () => number
}

export class RunRegistry {
  private readonly runs = new Map<string, AskRun>()
  private readonly graceTimers = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly ended = new Map<string, Ended>()
  /** Conversations with an answer being written. */
  private readonly writing = new Set<string>()
  private closing = false

  constructor(private readonly opts: RunRegistryOptions) {}

  get isClosing(): boolean {
    return this.closing
  }

  /** Claims a conversation for one answer; CONFLICT while another is being written there. */
  claimConversation(conversationId: string): void {
    if (this.writing.has(conversationId))
      throw new AppError('CONFLICT', 'An answer is still being written in this conversation; wait for it or stop it.')
    this.writing.add(conversationId)
  }

  releaseConversation(conversationId: string): void {
    this.writing.delete(conversationId)
  }

  /** A new run, nobody listening yet: the grace clock runs until someone attaches. */
  add(run: AskRun): void {
    this.runs.set(run.requestId, run)
    this.listenersChanged(run.requestId, run.channel.listenerCount)
  }

  /** The channel's listener count changed. */
  listenersChanged(requestId: string, count: number): void {
    const run = this.runs.get(requestId)
    clearTimeout(this.graceTimers.get(requestId))
    this.graceTimers.delete(requestId)
    if (!run || count > 0)
      return
    const timer = setTimeout(() => {
      this.graceTimers.delete(requestId)
      run.stop('detached')
    }, this.opts.graceSeconds() * 1000)
    timer.unref?.()
    this.graceTimers.set(requestId, timer)
  }

  /** The run ended: its conversation is free; its channel lingers for late listeners. */
  retire(run: AskRun): void {
    this.runs.delete(run.requestId)
    clearTimeout(this.graceTimers.get(run.requestId))
    this.graceTimers.delete(run.requestId)
    this.writing.delete(run.conversationId)
    if (this.closing)
      return
    const timer = setTimeout(() => this.ended.delete(run.requestId), LINGER_MS)
    timer.unref?.()
    this.ended.set(run.requestId, { userId: run.userId, channel: run.channel, timer })
  }

  /** The channel of a member's live or just-finished ask (undefined: none in memory, or another member's). */
  channelOf(userId: number, requestId: string): AskChannel | undefined {
    const run = this.runs.get(requestId)
    if (run)
      return run.userId === userId ? run.channel : undefined
    const e = this.ended.get(requestId)
    return e && e.userId === userId ? e.channel : undefined
  }

  /** A member's running or waiting ask. */
  runOf(userId: number, requestId: string): AskRun | undefined {
    const run = this.runs.get(requestId)
    return run && run.userId === userId ? run : undefined
  }

  /** Stops whatever is being written in a conversation (before it is deleted); waits until it has ended. */
  async stopConversation(conversationId: string): Promise<void> {
    const runs = [...this.runs.values()].filter(r => r.conversationId === conversationId)
    for (const r of runs) r.stop('stop')
    await Promise.all(runs.map(r => r.finished))
  }

  /** Stops every ask of a member (disabled or deleted by the admin). */
  stopUser(userId: number): void {
    for (const r of this.runs.values()) {
      if (r.userId === userId)
        r.stop('stop')
    }
  }

  /** Shutdown: every ask is cut (kept as `interrupted`); waits until all are stored. */
  async shutdown(): Promise<void> {
    this.closing = true
    for (const t of this.graceTimers.values()) clearTimeout(t)
    this.graceTimers.clear()
    for (const e of this.ended.values()) clearTimeout(e.timer)
    this.ended.clear()
    const runs = [...this.runs.values()]
    for (const r of runs) r.stop('shutdown')
    await Promise.all(runs.map(r => r.finished))
  }
}
