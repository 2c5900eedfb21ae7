import type { ChatBody, QueuedEvent } from '@cws/backend/contracts'
import type { ChatStreamFrame, EventStreamOptions } from '../api/sse'
import type { AnswerTarget, AskEnd, AskState, AskStream, AskStreamHooks } from './askStreamTypes'
import { shallowReactive } from 'vue'
import * as chatApi from '../api/chat'
import { ApiError, isApiError } from '../api/http'
import { createFrameBuffer } from './frameBuffer'
import { createRetryWait, reconnectDelay } from './retryWait'

/**
 * One ask followed over its event stream: a state machine (docs/architecture.md, "The stream
 * protocol"). `send` posts a new ask, `attach` follows one that runs already (another tab's, or
 * this page's before a reload).
 *
 *   sending ─accepted→ queued ⇄ … ─started→ started ─delta→ streaming ─done|error→ ended
 *   started ─queued→ queued (back in line before any output: a rate limit, a refused account)
 *   attaching ─accepted (a snapshot)→ the same
 *
 * An ask is a job on the server, not a request: when the connection drops before `done`/`error`
 * (network loss, a stream cut short, a stall, the browser going offline), it re-attaches with
 * `Last-Event-ID` after a growing pause (0.5 s, 1 s, 2 s … 10 s; back to 0.5 s once a connection
 * brought something; at once when the browser is back online), for as long as the page is open;
 * `reconnecting` is true meanwhile. It gives up on 401/403/404 (the ask can no longer be seen).
 * A stream that begins with `accepted` is a snapshot: its text replaces the answer's.
 *
 * Text is buffered and written to the answer once per animation frame, so only the growing message
 * re-renders, at most once a frame.
 */

export type { AnswerTarget, AskEnd, AskState, AskStream, AskStreamHooks } from './askStreamTypes'

/** No byte (not even a `: ping`, sent every 15 s) for this long: the connection is dead, re-attach. */
export const STALL_MS = 45_000
/** How long a stop waits for the server's own end of the stream before ending it here. */
export const STOP_WAIT_MS = 5_000
const STOPPED: AskEnd = { kind: 'done', finishReason: 'aborted' }

const asApiError = (err: unknown): ApiError => isApiError(err) ? err : new ApiError({ code: 'UNKNOWN', status: 0, message: String(err) })
const gone = (err: ApiError): boolean => err.status === 401 || err.status === 403 || err.status === 404

type Connect = (opts: EventStreamOptions) => Promise<ChatStreamFrame>

export function useAskStream<A extends AnswerTarget>(initialAnswer: A | null, hooks: AskStreamHooks<A> = {}): AskStream<A> {
  let controller: AbortController | null = null
  /** Why this page aborted the current connection (a reconnect is not a stop). */
  let abortedFor: 'reconnect' | 'stop' | null = null
  let stall: ReturnType<typeof setTimeout> | undefined
  let stopTimer: ReturnType<typeof setTimeout> | undefined
  let stopRequested = false
  let stopSent = false
  let result: AskEnd | null = null
  let markOpened: (() => void) | null = null
  const opened = new Promise<void>(resolve => (markOpened = resolve))

  const stream = shallowReactive({
    state: 'sending' as AskState,
    queue: null as QueuedEvent | null,
    reconnecting: false,
    requestId: null as string | null,
    lastEventId: null as string | null,
    answer: initialAnswer as A | null,
    opened,
    send: (body: ChatBody) => follow('sending', opts => chatApi.ask(body, opts), false),
    attach: (requestId: string) => {
      stream.requestId = requestId
      return follow('attaching', opts => chatApi.attach(requestId, opts), true)
    },
    stop,
    close,
  })

  const text = createFrameBuffer((t, whole) => {
    const answer = stream.answer
    if (answer)
      answer.content = whole ? t : answer.content + t
  })
  const retry = createRetryWait(() => {
    // The connection went with the network; follow again once it is back.
    if (stream.requestId && !result)
      abort('reconnect')
  })

  function finish(end: AskEnd): AskEnd {
    if (result)
      return result
    text.flush()
    const answer = stream.answer
    if (answer && end.kind === 'done') {
      answer.status = end.finishReason === 'aborted' ? 'stopped' : 'done'
      answer.finishReason = end.finishReason
      answer.errorCode = null
    }
    else if (answer && end.kind === 'error') {
      // INTERRUPTED: nobody watched it for the grace period; the partial answer is kept.
      answer.status = end.code === 'INTERRUPTED' ? 'interrupted' : 'error'
      answer.errorCode = end.code
    }
    else if (answer && end.kind === 'lost' && answer.status === 'streaming') {
      answer.status = 'interrupted'
      if (end.error.code === 'SESSION_ENDED')
        answer.errorCode = end.error.code
    }
    result = end
    stream.state = 'ended'
    stream.queue = null
    stream.reconnecting = false
    clearTimeout(stall)
    clearTimeout(stopTimer)
    retry.wake()
    // Whatever is still open of the connection is of no use now.
    abort('stop')
    retry.listen(false)
    markOpened?.()
    return end
  }

  /** After the frames that came together with the first (one chunk): write their text now, then say so. */
  function firstFrames(): void {
    if (!markOpened)
      return
    const done = markOpened
    markOpened = null
    void Promise.resolve().then(() => {
      text.flush()
      done()
    })
  }

  function onFrame(f: ChatStreamFrame, first: boolean, snapshots: boolean): void {
    if (result)
      return
    if (f.id !== null)
      stream.lastEventId = f.id
    switch (f.event) {
      case 'accepted': {
        stream.requestId = f.data.requestId
        const target = hooks.accepted?.(f.data)
        if (target) {
          text.flush()
          stream.answer = target
        }
        // A snapshot: what follows is the whole text so far.
        if (first && snapshots)
          text.replaceNext()
        if (stopRequested && !stopSent)
          void stopOnServer()
        break
      }
      case 'queued':
        // Also after `started` when no text came yet: the upstream refused before any output (a rate
        // limit, a refused account) and the ask went back in line. Never once text came.
        if (stream.state !== 'streaming') {
          stream.state = 'queued'
          stream.queue = f.data
        }
        break
      case 'started':
        stream.state = 'started'
        stream.queue = null
        break
      case 'delta':
        stream.state = 'streaming'
        stream.queue = null
        text.append(f.data.text)
        break
      case 'title':
        hooks.title?.(f.data.title)
        break
      case 'done':
        finish({ kind: 'done', finishReason: f.data.finishReason })
        break
      case 'error':
        // SESSION_ENDED ends only this stream (signed out): the ask goes on, detached.
        if (f.data.code === 'SESSION_ENDED')
          finish({ kind: 'lost', error: new ApiError({ code: f.data.code, status: 401, message: f.data.message }) })
        else
          finish({ kind: 'error', code: f.data.code })
        break
    }
  }

  async function follow(initial: AskState, first: Connect, attaching: boolean): Promise<AskEnd> {
    stream.state = initial
    retry.listen(true)
    let connect = first
    let snapshots = attaching
    let attempt = 0
    while (!result) {
      const ctl = new AbortController()
      controller = ctl
      abortedFor = null
      let fresh = true
      const alive = (): void => {
        stream.reconnecting = false
        watch(ctl)
      }
      watch(ctl)
      try {
        await connect({
          signal: ctl.signal,
          onOpen: alive,
          onPing: alive,
          onEvent: (f) => {
            firstFrames()
            alive()
            attempt = 0
            onFrame(f, fresh, snapshots)
            fresh = false
          },
        })
      }
      catch (err) {
        clearTimeout(stall)
        if (result)
          break
        if (!stream.requestId)
          return finish(abortedFor === 'stop' ? { kind: 'cancelled' } : { kind: 'refused', error: asApiError(err) })
        const aborted = err instanceof DOMException && err.name === 'AbortError'
        if (!aborted && gone(asApiError(err)))
          return finish({ kind: 'lost', error: asApiError(err) })
        // Anything else (network loss, cut short, stalled, offline, 5xx): follow again after a pause.
        stream.reconnecting = true
        await retry.wait(reconnectDelay(attempt++))
        const requestId = stream.requestId
        connect = opts => chatApi.attach(requestId, { ...opts, lastEventId: stream.lastEventId })
        snapshots = true
      }
    }
    return result!
  }

  /** Restarts the stall watch of connection `ctl`. */
  function watch(ctl: AbortController): void {
    clearTimeout(stall)
    stall = setTimeout(() => {
      if (controller === ctl)
        abort('reconnect')
    }, STALL_MS)
  }

  function abort(why: 'reconnect' | 'stop'): void {
    if (!controller)
      return
    abortedFor = why
    const ctl = controller
    controller = null
    ctl.abort()
  }

  async function stopOnServer(): Promise<void> {
    stopSent = true
    try {
      await chatApi.stopAsk(stream.requestId!)
    }
    catch {
      // The server cannot be told now: end here; it stops the ask itself once nobody listens.
      finish(STOPPED)
      return
    }
    // The server ends the stream with `done {finishReason: aborted}` and the text it kept.
    retry.wake()
    stopTimer = setTimeout(finish, STOP_WAIT_MS, STOPPED)
  }

  async function stop(): Promise<void> {
    if (result || stopRequested)
      return
    stopRequested = true
    if (stream.requestId) {
      await stopOnServer()
      return
    }
    // Not accepted yet: the stop reaches the server as soon as it names the ask (a stream closed now
    // would leave an ask running that nobody sees); unless the server does not answer at all.
    stopTimer = setTimeout(() => {
      if (!stream.requestId)
        abort('stop')
    }, STOP_WAIT_MS)
  }

  function close(): void {
    finish({ kind: 'detached' })
  }

  return stream
}
