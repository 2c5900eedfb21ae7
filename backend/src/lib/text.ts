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

/**
 * The UTF-8 bytes of `pieces` joined, written piece by piece into one buffer: the joined string is
 * never built (joining a long rope of pieces makes V8 allocate a flat copy of all of it, which then
 * waits in the heap for a major GC). A surrogate pair split between two pieces stays one character.
 */
export function utf8Of(pieces: readonly string[]): Buffer {
  let bytes = 0
  for (const p of pieces) bytes += Buffer.byteLength(p, 'utf8')
  const out = Buffer.allocUnsafe(bytes)
  let at = 0
  let carry = ''
  for (let i = 0; i < pieces.length; i++) {
    let p = carry ? carry + pieces[i]! : pieces[i]!
    carry = ''
    const last = p.charCodeAt(p.length - 1)
    if (last >= 0xD800 && last <= 0xDBFF && i < pieces.length - 1) {
      carry = p.slice(-1)
      p = p.slice(0, -1)
    }
    at += out.write(p, at, 'utf8')
  }
  // A pair rejoined is 4 bytes where its halves apart counted 3 + 3.
  return out.subarray(0, at)
}
