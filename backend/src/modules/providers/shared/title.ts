import { codePoints } from '../../../lib/text.js'

const MARKDOWN = /[`*_#>[\]()!|$\\]/g
const TRAILING = /[\s,.;:?!-]+$/

/** A short conversation title from a question's first words, for upstreams that do not make one. */
export function shortTitle(question: string, maxWords = 6, maxChars = 48): string {
  // Only the beginning matters: a 32,000-character question is not split whole.
  const cleaned = question.slice(0, 64 * maxChars).replace(MARKDOWN, ' ').trim()
  if (!cleaned)
    return 'New chat'
  const words = cleaned.split(/\s+/, maxWords)
  let title = ''
  let length = 0
  for (const w of words) {
    const next = length ? length + 1 + codePoints(w) : codePoints(w)
    if (next > maxChars)
      break
    title = title ? `${title} ${w}` : w
    length = next
  }
  if (!title)
    title = [...words[0]!].slice(0, maxChars).join('')
  title = title.replace(TRAILING, '')
  return title ? title.charAt(0).toUpperCase() + title.slice(1) : 'New chat'
}
