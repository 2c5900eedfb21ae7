/**
 * Restart recovery (docs/architecture.md, "Persistence"): what a crash left half-done is closed at
 * start-up, and answers it cut are settled. A ChatGPT web answer goes on upstream when our stream
 * of it breaks, so it is read back from the upstream conversation: finished there, it is stored
 * whole and the ask log says "recovered". Every other answer cut by our own crash or restart is
 * refunded (issue #15 §3, §4); reservations without output are refunded by the quotas module.
 */
import type { Provider } from '../providers/types.js'
import type { CutAsk, RecoveryRepository } from './recovery.repository.js'
import { codePoints } from '../../lib/text.js'

export interface RecoveryDeps {
  repo: RecoveryRepository
  /** The provider of an upstream's account (undefined: the upstream is gone). */
  providerOf: (upstreamId: string, accountId: string | null) => Provider | undefined
  refundCommitted: (askId: string) => Promise<unknown>
  logger: { info: (obj: object, msg?: string) => void, warn: (obj: object, msg?: string) => void }
  now: () => Date
  /** How long reading one conversation back may take. */
  timeoutMs?: number
  /** Stops waiting for the upstream (the app is closing). */
  signal?: AbortSignal
}

/** Reads one cut answer back from its upstream; true when it was stored complete. */
async function recoverOne(a: CutAsk, deps: RecoveryDeps): Promise<boolean> {
  const provider = deps.providerOf(a.upstreamId, a.accountId)
  if (!provider?.finishedMessage || !a.messageId || !a.upstreamConversationId || !a.upstreamMessageId)
    return false
  const signals = [AbortSignal.timeout(deps.timeoutMs ?? 10_000), ...(deps.signal ? [deps.signal] : [])]
  try {
    const found = await provider.finishedMessage(a.upstreamConversationId, a.upstreamMessageId, AbortSignal.any(signals))
    // Only the same answer, grown: what the member saw (the stored checkpoint) must be its beginning.
    if (!found || !found.text.startsWith(a.content ?? ''))
      return false
    return await deps.repo.storeRecovered({ askId: a.askId, messageId: a.messageId, content: found.text, charsOut: codePoints(found.text), finishReason: found.finishReason, now: deps.now() })
  }
  catch (err) {
    deps.logger.warn({ err, requestId: a.askId }, 'recovery: reading the answer back from the upstream failed')
    return false
  }
}

/** Settles every answer a restart cut: recovered complete from the upstream, else refunded. A few at a time. */
export async function settleCutAsks(deps: RecoveryDeps): Promise<{ recovered: number, refunded: number }> {
  const queue = deps.repo.unsettled()
  let recovered = 0
  let refunded = 0
  const worker = async (): Promise<void> => {
    for (let a = queue.shift(); a; a = queue.shift()) {
      if (await recoverOne(a, deps))
        recovered++
      else if (deps.signal?.aborted)
        return // closing: settled at the next start
      else if (await deps.refundCommitted(a.askId))
        refunded++
    }
  }
  await Promise.all(Array.from({ length: 4 }, worker))
  if (recovered || refunded)
    deps.logger.info({ recovered, refunded }, 'answers cut by the last shutdown: recovered from the upstream or refunded')
  return { recovered, refunded }
}
