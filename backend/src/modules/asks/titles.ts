/**
 * The title of a new conversation: the upstream's own (sent during the answer), else ChatGPT web's
 * gen_title after the answer, else the question's first words (stored at admission already).
 */
import type { Provider } from '../providers/types.js'

/** How long `genTitle` may take before the answer is reported done without it. */
const GEN_TITLE_TIMEOUT_MS = 5000

export interface TitleLogger {
  info: (obj: object, msg?: string) => void
}

/** A title from the upstream's conversation, or `fallback`. */
export async function titleAfterAnswer(
  provider: Provider,
  upstream: { conversationId?: string, messageId?: string },
  fallback: string,
  log: TitleLogger,
): Promise<string> {
  if (provider.genTitle && upstream.conversationId && upstream.messageId) {
    try {
      const title = (await provider.genTitle(upstream.conversationId, upstream.messageId, AbortSignal.timeout(GEN_TITLE_TIMEOUT_MS))).trim().slice(0, 200)
      if (title)
        return title
    }
    catch (err) {
      log.info({ err }, 'gen_title failed; using the question\'s first words')
    }
  }
  return fallback
}

/** An upstream title as we keep it (trimmed, at most 200 characters); '' when there is none. */
export function cleanTitle(title: string): string {
  return title.trim().slice(0, 200)
}
