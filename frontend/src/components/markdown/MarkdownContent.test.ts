// @vitest-environment jsdom
import { mount } from '@vue/test-utils'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import { i18n } from '../../locales'
import { assetsSettled } from './assets'
import MarkdownContent from './MarkdownContent.vue'
import * as render from './render'
import { loadMarkdownRenderer } from './renderer'

// The renderer loads on first use (lazy-assets.test.ts shows that); here it is there from the start.
beforeAll(() => loadMarkdownRenderer())

let frames: FrameRequestCallback[] = []
beforeEach(() => {
  frames = []
  vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => frames.push(cb))
  vi.stubGlobal('cancelAnimationFrame', () => {})
})
afterEach(() => {
  vi.unstubAllGlobals()
})

function runFrame(): void {
  const due = frames
  frames = []
  due.forEach(cb => cb(performance.now() + 1000))
}

describe('markdownContent', () => {
  it('renders finished content at once, with math and code once KaTeX and the language have loaded', async () => {
    const w = mount(MarkdownContent, { props: { content: '# Hi\n\n$x^2$\n\n```js\nlet a = 1\n```' }, global: { plugins: [i18n] } })
    expect(w.find('h1').text()).toBe('Hi')
    await assetsSettled()
    await nextTick()
    expect(w.find('.katex').exists()).toBe(true)
    expect(w.find('.hljs-keyword').text()).toBe('let')
    expect(w.find('.md-code-lang').text()).toBe('javascript')
    expect(w.find('.md-cursor').exists()).toBe(false)
  })

  it('while streaming, many deltas cause one render per animation frame, with a cursor at the end', async () => {
    const spy = vi.spyOn(render, 'renderMarkdownUncached')
    const w = mount(MarkdownContent, { props: { content: 'Hel', streaming: true }, global: { plugins: [i18n] } })
    spy.mockClear()
    for (const c of ['lo', ', ', 'wor', 'ld', '!'])
      await w.setProps({ content: `${w.props('content')}${c}` })
    await nextTick()
    expect(spy).not.toHaveBeenCalled()
    runFrame()
    expect(spy).toHaveBeenCalledTimes(1)
    expect(w.text()).toBe('Hello, world!')
    expect(w.find('p .md-cursor').exists()).toBe(true)
    // finishing renders the final text without a cursor
    await w.setProps({ streaming: false })
    expect(w.find('.md-cursor').exists()).toBe(false)
    spy.mockRestore()
  })

  it('copy buttons work through one delegated listener (no inline handlers)', async () => {
    const writeText = vi.fn(async () => {})
    vi.stubGlobal('navigator', { clipboard: { writeText } })
    vi.stubGlobal('isSecureContext', true)
    const w = mount(MarkdownContent, { props: { content: '```py\nprint(1)\n```' }, global: { plugins: [i18n] }, attachTo: document.body })
    const button = w.find('button[data-copy-code]')
    expect(button.attributes('onclick')).toBeUndefined()
    await button.trigger('click')
    await new Promise(r => setTimeout(r, 0))
    expect(writeText).toHaveBeenCalledWith('print(1)\n')
    expect(button.attributes('data-copied')).toBe('true')
    w.unmount()
  })
})
