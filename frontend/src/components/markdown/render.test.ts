// @vitest-environment jsdom
import { beforeAll, describe, expect, it } from 'vitest'
import { loadKatex } from './math'
import { renderMarkdown, renderMarkdownComplete, renderMarkdownUncached, sanitizeHtml } from './render'

// KaTeX loads on first use (lazy-assets.test.ts shows that); here it is there from the start, so the
// sanitization corpus goes through KaTeX's real output.
beforeAll(() => loadKatex())

function dom(html: string): HTMLElement {
  const div = document.createElement('div')
  div.innerHTML = html
  return div
}

/** Anything that could run script once the HTML is in the page. */
function executableBits(root: HTMLElement): string[] {
  const found: string[] = []
  for (const el of Array.from(root.querySelectorAll('*'))) {
    const tag = el.tagName.toLowerCase()
    if (['script', 'iframe', 'object', 'embed', 'frame', 'base', 'link', 'meta', 'form', 'style', 'foreignobject', 'use', 'animate', 'set'].includes(tag))
      found.push(`<${tag}>`)
    for (const attr of Array.from(el.attributes)) {
      const name = attr.name.toLowerCase()
      const value = attr.value.replace(/[\s\0]/g, '').toLowerCase()
      if (name.startsWith('on'))
        found.push(`${tag}[${name}]`)
      if (['href', 'src', 'xlink:href', 'action', 'formaction', 'data', 'srcdoc'].includes(name) && /^(?:javascript|vbscript|data:text\/html)/.test(value))
        found.push(`${tag}[${name}=${attr.value}]`)
      if (name === 'srcdoc')
        found.push(`${tag}[srcdoc]`)
    }
  }
  return found
}

const CORPUS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<svg onload=alert(1)><circle r="5"/></svg>',
  '<svg><script>alert(1)</script></svg>',
  '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
  '<svg><animate onbegin=alert(1) attributeName=x dur=1s>',
  '<svg><foreignObject><iframe src="javascript:alert(1)"></iframe></foreignObject></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<iframe src="https://evil.example"></iframe>',
  '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
  '<a href="javascript:alert(1)">click</a>',
  '<a href="JaVaScRiPt:alert(1)">click</a>',
  '<a href="&#106;avascript:alert(1)">click</a>',
  '<a href="java\tscript:alert(1)">click</a>',
  '<a href="data:text/html,<script>alert(1)</script>">x</a>',
  '<form action="javascript:alert(1)"><button>go</button></form>',
  '<object data="javascript:alert(1)"></object>',
  '<embed src="javascript:alert(1)">',
  '<body onload=alert(1)>',
  '<div style="background:url(javascript:alert(1))" onclick="alert(1)">x</div>',
  '<details open ontoggle=alert(1)>',
  '<base href="javascript:alert(1)//">',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<link rel="stylesheet" href="javascript:alert(1)">',
  '<input autofocus onfocus=alert(1)>',
  '<video><source onerror=alert(1)></video>',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
  '"><img src=x onerror=alert(1)>',
]

const MARKDOWN_CORPUS = [
  '[click me](javascript:alert(1))',
  '[click me](JAVASCRIPT:alert(1))',
  '[click me](vbscript:msgbox(1))',
  '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '![x](javascript:alert(1))',
  '<javascript:alert(1)>',
  '[a](<javascript:alert(1)>)',
  '$\\href{javascript:alert(1)}{click}$',
  '$$\\url{javascript:alert(1)}$$',
  '$\\htmlData{onclick=alert(1)}{x}$',
  '```html\n<script>alert(1)</script>\n```',
  '`<img src=x onerror=alert(1)>`',
  '| a | b |\n|---|---|\n| <script>alert(1)</script> | <img src=x onerror=alert(1)> |',
]

describe('sanitization', () => {
  it.each(CORPUS)('raw HTML never executes when rendered as Markdown: %s', (payload) => {
    const root = dom(renderMarkdownUncached(payload))
    expect(executableBits(root)).toEqual([])
    // html:false → the model's tags are shown as text, not dropped silently.
    expect(root.textContent).toContain('<')
  })

  it.each(CORPUS)('sanitizeHtml strips executable parts from raw HTML: %s', (payload) => {
    expect(executableBits(dom(sanitizeHtml(payload)))).toEqual([])
  })

  it.each(MARKDOWN_CORPUS)('markdown constructs never execute: %s', (payload) => {
    expect(executableBits(dom(renderMarkdownUncached(payload)))).toEqual([])
  })

  it('links open in a new tab without opener or referrer', () => {
    const a = dom(renderMarkdown('See [the docs](https://example.com/docs).')).querySelector('a')!
    expect(a.getAttribute('href')).toBe('https://example.com/docs')
    expect(a.getAttribute('target')).toBe('_blank')
    expect(a.getAttribute('rel')).toContain('noopener')
    expect(a.getAttribute('rel')).toContain('noreferrer')
  })

  it('bare URLs are linkified', () => {
    const a = dom(renderMarkdown('Go to https://example.org now')).querySelector('a')
    expect(a?.getAttribute('href')).toBe('https://example.org')
  })
})

describe('math', () => {
  it.each([
    ['$E = mc^2$', false],
    ['\\(a^2 + b^2\\)', false],
    ['$$\\int_0^1 x\\,dx$$', true],
    ['\\[\\sum_{i=1}^n i\\]', true],
    ['$$\n\\frac{a}{b}\n$$', true],
    ['\\[\n\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}\n\\]', true],
  ])('renders %s with KaTeX', async (src, display) => {
    const root = dom(await renderMarkdownComplete(src))
    expect(root.querySelector('.katex')).not.toBeNull()
    expect(root.querySelector('.katex-display') !== null).toBe(display)
    expect(root.querySelector('annotation')?.textContent?.trim()).toBeTruthy()
  })

  it('inline math inside a sentence keeps the sentence', async () => {
    const root = dom(await renderMarkdownComplete('The area is $\\pi r^2$ for a circle.'))
    expect(root.querySelectorAll('.katex')).toHaveLength(1)
    expect(root.textContent).toContain('for a circle.')
  })

  it('prices are not math', async () => {
    const root = dom(await renderMarkdownComplete('It costs $5 and $6 on Tuesday, or US$10.'))
    expect(root.querySelector('.katex')).toBeNull()
    expect(root.textContent?.trim()).toBe('It costs $5 and $6 on Tuesday, or US$10.')
  })

  it('a price followed by math-looking text is not math', async () => {
    expect(dom(await renderMarkdownComplete('Between $20 and $30.')).querySelector('.katex')).toBeNull()
    expect(dom(await renderMarkdownComplete('Pay $ 5 now $')).querySelector('.katex')).toBeNull()
  })

  it('escaped dollars stay literal', async () => {
    const root = dom(await renderMarkdownComplete('\\$x\\$'))
    expect(root.querySelector('.katex')).toBeNull()
    expect(root.textContent?.trim()).toBe('$x$')
  })

  it('dollars inside code are code', async () => {
    const root = dom(await renderMarkdownComplete('Run `echo $HOME $PATH` and\n\n```sh\necho "$a" "$b"\n```'))
    expect(root.querySelector('.katex')).toBeNull()
    expect(root.querySelector('code')?.textContent).toBe('echo $HOME $PATH')
  })

  it('math inside a list item', async () => {
    const root = dom(await renderMarkdownComplete('- first $x_1$\n- second\n\n  $$\n  y = 2\n  $$\n'))
    expect(root.querySelectorAll('li .katex')).toHaveLength(2)
  })

  it('invalid TeX shows an error in place instead of throwing', async () => {
    const root = dom(await renderMarkdownComplete('$\\frac{a$'))
    expect(root.textContent).toContain('\\frac{a')
  })

  it('an unclosed $$ block (mid-stream) stays text', () => {
    expect(() => renderMarkdownUncached('$$\n\\int_0^1')).not.toThrow()
    expect(dom(renderMarkdownUncached('$$\n\\int_0^1')).querySelector('.katex-display')).toBeNull()
  })
})

describe('code', () => {
  it('highlights with a language label and a copy button', async () => {
    const root = dom(await renderMarkdownComplete('```python\ndef f(x):\n    return x * 2\n```'))
    const block = root.querySelector('.md-code')!
    expect(block.querySelector('.md-code-lang')?.textContent).toBe('python')
    expect(block.querySelector('button[data-copy-code]')).not.toBeNull()
    expect(block.querySelector('code.language-python .hljs-keyword')?.textContent).toBe('def')
    expect(block.querySelector('code')?.textContent).toBe('def f(x):\n    return x * 2\n')
  })

  it('aliases are normalised (ts → typescript) and unknown languages still render', async () => {
    expect(dom(await renderMarkdownComplete('```ts\nconst a = 1\n```')).querySelector('.md-code-lang')?.textContent).toBe('typescript')
    const unknown = dom(await renderMarkdownComplete('```klingon\nQapla\'\n```'))
    expect(unknown.querySelector('.md-code-lang')?.textContent).toBe('klingon')
    expect(unknown.querySelector('code')?.textContent).toBe('Qapla\'\n')
  })

  it('a fence without a language is labelled text and escaped', async () => {
    const root = dom(await renderMarkdownComplete('```\n<b>not bold</b>\n```'))
    expect(root.querySelector('.md-code-lang')?.textContent).toBe('text')
    expect(root.querySelector('b')).toBeNull()
    expect(root.querySelector('code')?.textContent).toBe('<b>not bold</b>\n')
  })

  it('an unclosed fence (mid-stream) renders as code so far', () => {
    const root = dom(renderMarkdownUncached('Here:\n\n```js\nconst a = 1'))
    expect(root.querySelector('code')?.textContent).toContain('const a = 1')
  })
})

describe('tables and caching', () => {
  it('tables are wrapped for horizontal scrolling', () => {
    const root = dom(renderMarkdown('| a | b |\n|---|:-:|\n| 1 | 2 |'))
    expect(root.querySelector('.md-table-wrap > table th')?.textContent).toBe('a')
    expect(root.querySelectorAll('td')).toHaveLength(2)
  })

  it('returns the memoised string for the same content', () => {
    const src = `# Title ${Math.random()}\n\n$x$`
    expect(renderMarkdown(src)).toBe(renderMarkdown(src))
  })
})
