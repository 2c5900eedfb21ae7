import type Katex from 'katex'
import type MarkdownIt from 'markdown-it'
import { loadAsset, markMissing } from './assets'

// @types/markdown-it resolves to its CJS or ESM flavour depending on the tool; derive what we need.
type Md = InstanceType<typeof MarkdownIt>
type BlockRule = Parameters<Md['block']['ruler']['before']>[2]
type InlineRule = Parameters<Md['inline']['ruler']['before']>[2]
type StateBlock = Parameters<BlockRule>[0]
type StateInline = Parameters<InlineRule>[0]

/**
 * A small markdown-it math plugin: `$…$` and `\(…\)` inline, `$$…$$` and `\[…\]` as blocks (or inline
 * when they sit inside a paragraph). Rendered with KaTeX, `trust: false` (no `\href{javascript:…}`,
 * no `\htmlClass`), errors shown in place instead of thrown.
 *
 * Dollar rules follow Pandoc so prices stay prices: the opening `$` must not be followed by a space,
 * the closing `$` must not be preceded by a space nor followed by a digit (`$5 and $6` is text).
 *
 * KaTeX (its code, its CSS and fonts) loads the first time a formula is rendered; until then the
 * formula shows as its TeX source (`.math-pending`) and the render is marked incomplete
 * (`assets.ts`), so MarkdownContent renders it again once KaTeX is there.
 */

let katex: typeof Katex | null = null

/** Loads KaTeX and its stylesheet (once). */
export function loadKatex(): Promise<void> {
  return loadAsset('katex', async () => {
    const [mod] = await Promise.all([import('katex'), import('katex/dist/katex.min.css')])
    katex = mod.default
  })
}

const texCache = new Map<string, string>()
const TEX_CACHE_LIMIT = 1000

/** KaTeX HTML for one formula, memoised (a streaming message re-renders its formulas every frame). */
export function renderTex(tex: string, displayMode: boolean): string {
  const key = `${displayMode ? 'D' : 'I'}${tex}`
  const hit = texCache.get(key)
  if (hit !== undefined)
    return hit
  const html = renderTexUncached(tex, displayMode)
  if (html === null)
    return `<span class="math-pending">${escapeTex(tex)}</span>`
  texCache.set(key, html)
  if (texCache.size > TEX_CACHE_LIMIT)
    texCache.delete(texCache.keys().next().value!)
  return html
}

function escapeTex(tex: string): string {
  return tex.replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
}

function renderTexUncached(tex: string, displayMode: boolean): string | null {
  if (!katex) {
    markMissing()
    void loadKatex()
    return null
  }
  try {
    return katex.renderToString(tex, {
      displayMode,
      throwOnError: false,
      trust: false,
      strict: 'ignore',
      output: 'htmlAndMathml',
      maxExpand: 500,
      maxSize: 50,
    })
  }
  catch {
    return `<code class="math-error">${escapeTex(tex)}</code>`
  }
}

const DOLLAR = 0x24
const BACKSLASH = 0x5C

function isWhitespace(code: number | undefined): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0A || code === 0x0D
}

function isDigit(code: number | undefined): boolean {
  return code !== undefined && code >= 0x30 && code <= 0x39
}

/** Finds the closing delimiter of inline `$…$` starting after `start`; -1 when there is none. */
function findClosingDollar(src: string, start: number, max: number): number {
  let pos = start
  while (pos < max) {
    const ch = src.charCodeAt(pos)
    if (ch === BACKSLASH) {
      pos += 2
      continue
    }
    if (ch === DOLLAR) {
      if (isWhitespace(src.charCodeAt(pos - 1)) || isDigit(src.charCodeAt(pos + 1)))
        return -1
      return pos
    }
    pos++
  }
  return -1
}

function mathInline(state: StateInline, silent: boolean): boolean {
  const { src, pos, posMax } = state
  const ch = src.charCodeAt(pos)

  // \( … \)  and  \[ … \] inside a paragraph
  if (ch === BACKSLASH) {
    const next = src.charCodeAt(pos + 1)
    if (next !== 0x28 /* ( */ && next !== 0x5B /* [ */)
      return false
    const close = next === 0x28 ? '\\)' : '\\]'
    const end = src.indexOf(close, pos + 2)
    if (end < 0 || end + 2 > posMax)
      return false
    return inlineToken(state, silent, next === 0x28 ? 'math_inline' : 'math_inline_display', next === 0x28 ? '\\(' : '\\[', end)
  }

  if (ch !== DOLLAR)
    return false

  // $$ … $$ inside a paragraph: display math
  if (src.charCodeAt(pos + 1) === DOLLAR) {
    const end = src.indexOf('$$', pos + 2)
    if (end < 0 || end + 2 > posMax)
      return false
    return inlineToken(state, silent, 'math_inline_display', '$$', end)
  }

  // $ … $
  if (isWhitespace(src.charCodeAt(pos + 1)) || pos + 1 >= posMax)
    return false
  // A `$` right after a digit or letter is rarely math opening (`US$5`).
  const prev = pos > 0 ? src.charCodeAt(pos - 1) : undefined
  if (prev !== undefined && /\w/.test(String.fromCharCode(prev)) && !isDigit(prev))
    return false
  const end = findClosingDollar(src, pos + 1, posMax)
  if (end < 0)
    return false
  return inlineToken(state, silent, 'math_inline', '$', end)
}

/**
 * The formula between the opening delimiter `markup` at `state.pos` and its closing delimiter (as
 * long as the opening one) at `end`, as a `type` token; false when the formula is blank.
 */
function inlineToken(state: StateInline, silent: boolean, type: string, markup: string, end: number): boolean {
  const content = state.src.slice(state.pos + markup.length, end)
  if (!content.trim())
    return false
  if (!silent) {
    const token = state.push(type, 'math', 0)
    token.content = content
    token.markup = markup
  }
  state.pos = end + markup.length
  return true
}

function mathBlock(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  let pos = state.bMarks[startLine]! + state.tShift[startLine]!
  const max = state.eMarks[startLine]!
  // Indented code wins.
  if (state.sCount[startLine]! - state.blkIndent >= 4)
    return false
  const firstLine = state.src.slice(pos, max)
  let open: string
  let close: string
  if (firstLine.startsWith('$$')) {
    open = '$$'
    close = '$$'
  }
  else if (firstLine.startsWith('\\[')) {
    open = '\\['
    close = '\\]'
  }
  else {
    return false
  }
  pos += open.length
  let rest = state.src.slice(pos, max)

  // Single line: $$ … $$ (nothing after the closing delimiter).
  const trimmed = rest.trimEnd()
  if (trimmed.endsWith(close) && trimmed.length >= close.length && trimmed.slice(0, -close.length).trim()) {
    return silent || blockToken(state, trimmed.slice(0, -close.length), open, startLine, startLine + 1)
  }
  if (rest.trim() && rest.includes(close))
    return false // `$$a$$ and more text` is inline

  // Multi-line: find the line that holds the closing delimiter.
  let line = startLine
  let found = false
  const lines: string[] = [rest]
  while (!found) {
    line++
    if (line >= endLine)
      break
    const lpos = state.bMarks[line]! + state.tShift[line]!
    const lmax = state.eMarks[line]!
    if (lpos < lmax && state.sCount[line]! < state.blkIndent)
      break // a less indented line ends the list item we are in
    rest = state.src.slice(lpos, lmax)
    const idx = rest.indexOf(close)
    if (idx >= 0) {
      if (rest.slice(idx + close.length).trim())
        return false
      lines.push(rest.slice(0, idx))
      found = true
    }
    else {
      lines.push(rest)
    }
  }
  if (!found)
    return false // unclosed: while streaming it stays text until the closing `$$` arrives
  return silent || blockToken(state, lines.join('\n'), open, startLine, line + 1)
}

/** A `math_block` token over lines `startLine` up to (not including) `nextLine`, where parsing goes on. */
function blockToken(state: StateBlock, content: string, markup: string, startLine: number, nextLine: number): true {
  const token = state.push('math_block', 'math', 0)
  token.block = true
  token.content = content
  token.markup = markup
  token.map = [startLine, nextLine]
  state.line = nextLine
  return true
}

export function mathPlugin(md: Md): void {
  md.inline.ruler.before('escape', 'math_inline', mathInline)
  md.block.ruler.before('fence', 'math_block', mathBlock, { alt: ['paragraph', 'reference', 'blockquote', 'list'] })
  md.renderer.rules.math_inline = (tokens, idx) => renderTex(tokens[idx]!.content, false)
  md.renderer.rules.math_inline_display = (tokens, idx) => `<span class="math-display">${renderTex(tokens[idx]!.content, true)}</span>`
  md.renderer.rules.math_block = (tokens, idx) => `<div class="math-block">${renderTex(tokens[idx]!.content, true)}</div>\n`
}
