/** A short conversation title from a question's first words, for upstreams that do not make one. */
export function shortTitle(question: string, maxWords = 6, maxChars = 48): string {
  // Only the beginning matters: a 32,000-character question is not split whole.
  const words = question
    .slice(0, 64 * maxChars)
    .replace(/[`*_#>[\]()!|$\\]/g, ' ')
    .split(/\s+/)
    .filter(Boolean)
  if (!words.length)
    return 'New chat'
  let title = ''
  for (const w of words.slice(0, maxWords)) {
    const next = title ? `${title} ${w}` : w
    if ([...next].length > maxChars)
      break
    title = next
  }
  if (!title)
    title = [...words[0]!].slice(0, maxChars).join('')
  title = title.replace(/[\s,.;:?!-]+$/, '')
  return title ? title.charAt(0).toUpperCase() + title.slice(1) : 'New chat'
}
