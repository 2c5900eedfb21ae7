// @vitest-environment jsdom
import { mount } from '@vue/test-utils'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h, nextTick, ref } from 'vue'
import { i18n } from '../../locales'
import { createLazyRenderer, estimateHeight, provideLazyRender } from './lazy'
import MarkdownContent from './MarkdownContent.vue'
import { loadMarkdownRenderer } from './renderer'

// The renderer loads on first use (lazy-assets.test.ts shows that); here it is there from the start.
beforeAll(() => loadMarkdownRenderer())

type Callback = (entries: Partial<IntersectionObserverEntry>[]) => void
let observers: { cb: Callback, targets: Set<Element> }[] = []

class FakeObserver {
  targets = new Set<Element>()
  constructor(public cb: Callback) {
    observers.push(this)
  }

  observe(el: Element) {
    this.targets.add(el)
  }

  unobserve(el: Element) {
    this.targets.delete(el)
  }

  disconnect() {
    this.targets.clear()
  }
}

beforeEach(() => {
  observers = []
  vi.stubGlobal('IntersectionObserver', FakeObserver)
})
afterEach(() => {
  vi.unstubAllGlobals()
})

function intersect(els: Element[], isIntersecting = true): void {
  for (const o of observers)
    o.cb(els.filter(el => o.targets.has(el)).map(target => ({ target, isIntersecting })))
}

describe('lazy rendering', () => {
  it('renders targets once, when they come near, bottom first', () => {
    const root = document.createElement('div')
    const items = [0, 1, 2].map(() => root.appendChild(document.createElement('div')))
    const lazy = createLazyRenderer(ref(root))
    const order: number[] = []
    items.forEach((el, i) => lazy.observe(el, () => order.push(i)))
    intersect([items[0]!], false)
    expect(order).toEqual([])
    intersect(items)
    expect(order).toEqual([2, 1, 0])
    intersect(items)
    expect(order).toEqual([2, 1, 0])
    lazy.disconnect()
  })

  it('a cancelled target is never rendered; without a root everything renders at once', () => {
    const root = document.createElement('div')
    const el = root.appendChild(document.createElement('div'))
    const render = vi.fn()
    createLazyRenderer(ref(root)).observe(el, render)()
    intersect([el])
    expect(render).not.toHaveBeenCalled()
    createLazyRenderer(ref(null)).observe(el, render)
    expect(render).toHaveBeenCalledTimes(1)
  })

  it('estimates a placeholder height that grows with the text and its code', () => {
    expect(estimateHeight('')).toBe(24)
    const short = estimateHeight('Hello')
    const long = estimateHeight('Hello\n\n'.repeat(20))
    const code = estimateHeight(`Hello\n\n\`\`\`ts\n${'let a = 1\n'.repeat(20)}\`\`\``)
    expect(long).toBeGreaterThan(short)
    expect(code).toBeGreaterThan(short + 20 * 15)
  })

  it('markdownContent inside a lazy list waits with a placeholder; streaming and eager content render at once', async () => {
    const Host = defineComponent({
      props: { streaming: Boolean, eager: Boolean },
      setup(props) {
        const root = ref<HTMLElement | null>(null)
        provideLazyRender(root)
        return () => h('div', { ref: root }, [h(MarkdownContent, { content: '# Title\n\ntext', streaming: props.streaming, eager: props.eager })])
      },
    })
    const w = mount(Host, { global: { plugins: [i18n] } })
    await nextTick()
    const body = w.find('.md-body')
    expect(body.attributes('data-pending')).toBe('true')
    expect(body.find('h1').exists()).toBe(false)
    expect((body.element as HTMLElement).style.height).toMatch(/px$/)
    intersect([body.element])
    await nextTick()
    expect(body.find('h1').text()).toBe('Title')
    expect(body.attributes('data-pending')).toBeUndefined()
    expect((body.element as HTMLElement).style.height).toBe('')
    w.unmount()

    for (const props of [{ eager: true }, { streaming: true }]) {
      const e = mount(Host, { props, global: { plugins: [i18n] } })
      await nextTick()
      expect(e.find('.md-body').attributes('data-pending')).toBeUndefined()
      expect(e.find('.md-body').text()).toContain('Title')
      e.unmount()
    }
  })
})
