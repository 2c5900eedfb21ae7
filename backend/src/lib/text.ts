/** Characters as people count them (code points), without building an array. */
export function codePoints(s: string): number {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xD800 && c <= 0xDBFF)
      n--
  }
  return n
}
