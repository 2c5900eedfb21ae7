/**
 * Upstream error bodies may echo the access token, an API key or the account's e-mail address.
 * Nothing from an upstream body reaches a member, a log or a health reason without passing here.
 */
const PATTERNS: Array<[RegExp, string]> = [
  [/\bBearer\s+[\w.~+/=-]+/gi, 'Bearer [redacted]'],
  [/\beyJ[\w-]{5,}(?:\.[\w-]*){0,2}/g, '[redacted-jwt]'],
  [/\b(?:sk|rk|pk|sess)-[\w-]{8,}/g, '[redacted-key]'],
  [/\b(access_token|api_key|apikey|token|key|password|secret)(["']?\s*[=:]\s*["']?)[^\s"'&,}]{6,}/gi, '$1$2[redacted]'],
  [/[\w.%+-]+@[\w-]+(?:\.[\w-]+)+/g, '[redacted-email]'],
]

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Replaces known secrets and anything that looks like a token, key or e-mail address. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text
  for (const s of secrets) {
    if (s && s.length >= 4)
      out = out.replace(new RegExp(escapeRegExp(s), 'g'), '[redacted]')
  }
  for (const [re, by] of PATTERNS)
    out = out.replace(re, by)
  return out
}

/** The most telling short text of an error body: a JSON `detail`/`error.message`/`message`, an HTML `<title>`, or the text. */
function gist(body: string): string {
  const trimmed = body.trim()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const j = JSON.parse(trimmed) as any
      const pick = (v: unknown): string | undefined => {
        if (typeof v === 'string')
          return v
        if (v && typeof v === 'object') {
          const o = v as Record<string, unknown>
          return pick(o.message) ?? pick(o.detail) ?? pick(o.error) ?? pick(o.code)
        }
        return undefined
      }
      const found = pick(j?.detail) ?? pick(j?.error) ?? pick(j?.message)
      if (found)
        return found
    }
    catch {}
  }
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)
  if (title)
    return title[1]!
  if (/^<(?:!doctype|html)/i.test(trimmed))
    return trimmed.replace(/<[^>]*>/g, ' ')
  return trimmed
}

/** A redacted, single-line, truncated excerpt of an upstream body, safe for members and logs. */
export function safeExcerpt(body: string, secrets: ReadonlyArray<string | undefined> = [], max = 160): string {
  // Redact before truncating, so a cut never leaves half a secret behind.
  const text = redact(gist(body), secrets).replace(/\s+/g, ' ').trim()
  const chars = [...text]
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : text
}
