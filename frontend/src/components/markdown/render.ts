import type { Config } from 'dompurify'
import DOMPurify from 'dompurify'
import MarkdownIt from 'markdown-it'
import { assetsSettled, trackMissing } from './assets'
import { highlightAs } from './highlight'
import { mathPlugin } from './math'

/**
 * Model output → safe HTML. markdown-it runs with `html: false` (raw HTML the model writes is shown
 * as text, like ChatGPT does), math through KaTeX, code through highlight.js, and the final HTML goes
 * through DOMPurify anyway (defence in depth: KaTeX output, links, images).
 *
 * highlight.js languages and KaTeX load the first time an answer needs them (`highlight.ts`,
 * `math.ts`): until then code shows as plain text and a formula as its TeX, and such a render is not
 * memoised, so the next one (MarkdownContent repaints when they arrive) is complete.
 */

const LANGUAGE_LABELS: Record<string, string> = {
  'js': 'javascript',
  'ts': 'typescript',
  'py': 'python',
  'sh': 'bash',
  'shell': 'bash',
  'zsh': 'bash',
  'yml': 'yaml',
  'rb': 'ruby',
  'rs': 'rust',
  'kt': 'kotlin',
  'c++': 'cpp',
  'c#': 'csharp',
  'cs': 'csharp',
  'md': 'markdown',
  'html': 'html',
  'vue': 'vue',
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' })[c]!)
}

/** Language of a fence info string (`python title="x"` → `python`), lower-cased; '' when absent. */
export function fenceLanguage(info: string): string {
  const lang = info.trim().split(/\s+/)[0]?.toLowerCase() ?? ''
  return lang.replace(/[^\w#+.-]/g, '')
}

export function highlightCode(code: string, lang: string): string {
  const name = LANGUAGE_LABELS[lang] ?? lang
  const hlName = name === 'vue' ? 'xml' : name
  return (hlName ? highlightAs(code, hlName) : null) ?? escapeHtml(code)
}

const COPY_ICON = '<svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><rect x="9" y="9" width="13" height="13" rx="2"></rect><path d="M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1"></path></svg>'

function createMarkdown(): InstanceType<typeof MarkdownIt> {
  const opts = { html: false, linkify: true, breaks: false, typographer: false }
  const md = new MarkdownIt(opts)
  md.use(mathPlugin)

  md.renderer.rules.fence = (tokens, idx) => {
    const token = tokens[idx]!
    const lang = fenceLanguage(token.info)
    const label = LANGUAGE_LABELS[lang] ?? (lang || 'text')
    const body = highlightCode(token.content, lang)
    return '<div class="md-code">'
      + `<div class="md-code-header"><span class="md-code-lang">${escapeHtml(label)}</span>`
      + `<button type="button" class="md-code-copy" data-copy-code="">${COPY_ICON}<span class="md-code-copy-label"></span></button></div>`
      + `<pre><code class="hljs${lang ? ` language-${escapeHtml(lang)}` : ''}">${body}</code></pre></div>\n`
  }
  md.renderer.rules.code_block = (tokens, idx) => {
    const token = tokens[idx]!
    return `<div class="md-code"><pre><code class="hljs">${escapeHtml(token.content)}</code></pre></div>\n`
  }
  md.renderer.rules.table_open = () => '<div class="md-table-wrap"><table>\n'
  md.renderer.rules.table_close = () => '</table></div>\n'
  return md
}

const md = createMarkdown()

// A private DOMPurify instance, so our hooks never affect anyone else's sanitising.
let purifier: ReturnType<typeof DOMPurify> | null = null
function getPurifier(): ReturnType<typeof DOMPurify> {
  if (purifier)
    return purifier
  purifier = DOMPurify(window)
  purifier.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'A') {
      const href = node.getAttribute('href')
      if (href && !href.startsWith('#')) {
        node.setAttribute('target', '_blank')
        node.setAttribute('rel', 'noopener noreferrer nofollow')
      }
      else {
        node.removeAttribute('target')
      }
    }
    else if (node.nodeName === 'IMG') {
      node.setAttribute('referrerpolicy', 'no-referrer')
      node.setAttribute('loading', 'lazy')
    }
  })
  return purifier
}

const SANITIZE_CONFIG: Config = {
  USE_PROFILES: { html: true, svg: true, mathMl: true },
  ADD_ATTR: ['target', 'encoding'],
  ADD_TAGS: ['semantics', 'annotation'],
  FORBID_TAGS: ['style', 'form', 'input', 'textarea', 'select', 'iframe', 'object', 'embed', 'frame', 'frameset', 'base', 'link', 'meta', 'foreignObject', 'animate', 'set', 'use'],
  FORBID_ATTR: ['srcset', 'action', 'formaction', 'xlink:href', 'autofocus'],
  ALLOW_UNKNOWN_PROTOCOLS: false,
}

/** Sanitises any HTML for display (scripts, handlers, `javascript:` URLs, frames, forms are dropped). */
export function sanitizeHtml(html: string): string {
  return getPurifier().sanitize(html, SANITIZE_CONFIG) as unknown as string
}

/** Markdown → sanitised HTML, uncached (used for the message that is still streaming). */
export function renderMarkdownUncached(src: string): string {
  return sanitizeHtml(md.render(src))
}

const CACHE_LIMIT = 600
const cache = new Map<string, string>()

/**
 * Markdown → sanitised HTML, memoised by content (an LRU of the last 600 texts), so finished
 * messages are parsed once however often the list re-renders.
 */
export function renderMarkdown(src: string): string {
  const hit = cache.get(src)
  if (hit !== undefined) {
    cache.delete(src)
    cache.set(src, hit)
    return hit
  }
  const { value: html, complete } = trackMissing(() => renderMarkdownUncached(src))
  if (!complete)
    return html
  cache.set(src, html)
  if (cache.size > CACHE_LIMIT)
    cache.delete(cache.keys().next().value!)
  return html
}

/** Markdown → sanitised HTML once every language and KaTeX it needs have loaded (exports). */
export async function renderMarkdownComplete(src: string): Promise<string> {
  // A load that failed is tried again by the next render; after three tries the plain stand-in stays.
  for (let attempt = 0; ; attempt++) {
    const { value: html, complete } = trackMissing(() => renderMarkdown(src))
    if (complete || attempt === 3)
      return html
    await assetsSettled()
  }
}

/** Plain text shown as a paragraph-preserving block (user messages, "raw" toggle). */
export function renderPlainText(src: string): string {
  return escapeHtml(src)
}

export function markdownCacheSize(): number {
  return cache.size
}
