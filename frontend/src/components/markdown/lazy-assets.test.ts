// @vitest-environment jsdom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import { i18n } from '../../locales'
import { assetsSettled, assetsVersion, loadAsset } from './assets'
import MarkdownContent from './MarkdownContent.vue'
import { markdownCacheSize, renderMarkdown, renderMarkdownComplete } from './render'

// One module state for the whole file (vitest isolates files): nothing has loaded when it starts.

function dom(html: string): HTMLElement {
  const div = document.createElement('div')
  div.innerHTML = html
  return div
}

describe('highlight.js languages and KaTeX load when an answer needs them', () => {
  it('code first shows as plain text, is not memoised, and is highlighted once its language has loaded', async () => {
    const src = '```rust\nfn main() { let x = 1; }\n```'
    const before = assetsVersion.value
    const cached = markdownCacheSize()
    const first = dom(renderMarkdown(src))
    expect(first.querySelector('code')?.textContent).toBe('fn main() { let x = 1; }\n')
    expect(first.querySelector('code [class^="hljs-"]')).toBeNull()
    expect(markdownCacheSize()).toBe(cached)

    await assetsSettled()
    expect(assetsVersion.value).toBeGreaterThan(before)
    const later = dom(renderMarkdown(src))
    expect(later.querySelector('code.language-rust .hljs-keyword')?.textContent).toBe('fn')
    expect(markdownCacheSize()).toBe(cached + 1)
  })

  it('a language loads with the ones it embeds (HTML with a script highlights the script)', async () => {
    const html = dom(await renderMarkdownComplete('```html\n<script>const a = 1</script>\n```'))
    expect(html.querySelector('.hljs-tag')).not.toBeNull()
    expect(html.querySelector('.language-html .hljs-keyword')?.textContent).toBe('const')
  })

  it('math first shows its TeX, then KaTeX once it has loaded; prose and unknown languages need nothing', async () => {
    const first = dom(renderMarkdown('The area is $\\pi r^2$.'))
    expect(first.querySelector('.katex')).toBeNull()
    expect(first.querySelector('.math-pending')?.textContent).toBe('\\pi r^2')
    const done = dom(await renderMarkdownComplete('The area is $\\pi r^2$.'))
    expect(done.querySelector('.katex annotation')?.textContent).toBe('\\pi r^2')
    expect(done.querySelector('.math-pending')).toBeNull()

    const version = assetsVersion.value
    dom(renderMarkdown('Plain words and\n\n```klingon\nQapla\'\n```'))
    await assetsSettled()
    expect(assetsVersion.value).toBe(version)
  })

  it('a shown answer is its plain text, at its place, until the renderer is there, then paints again when its language arrives', async () => {
    const w = mount(MarkdownContent, { props: { content: 'Go:\n\n```go\nfunc main() {}\n```' }, global: { plugins: [i18n] } })
    expect(w.find('code').exists()).toBe(false)
    expect(w.text()).toContain('func main() {}')
    expect(w.classes()).toContain('md-plain')
    expect((w.element as HTMLElement).style.minHeight).toMatch(/px$/)
    await assetsSettled()
    await nextTick()
    expect((w.element as HTMLElement).style.minHeight).toBe('')
    expect(w.classes()).not.toContain('md-plain')
    expect(w.find('code.language-go .hljs-keyword').text()).toBe('func')
    w.unmount()
  })

  it('a load that fails once (a dropped connection) is tried again a second later and arrives', async () => {
    let tries = 0
    const version = assetsVersion.value
    await loadAsset('flaky chunk', async () => {
      if (++tries === 1)
        throw new TypeError('Failed to fetch dynamically imported module')
    })
    expect(tries).toBe(2)
    expect(assetsVersion.value).toBe(version + 1)
  })
})
