import { describe, expect, it } from 'vitest'
import { setupViewport } from './viewport'

/** A window whose visual viewport shrinks like a phone's when the on-screen keyboard opens. */
function phone() {
  const listeners: Record<string, (() => void)[]> = {}
  const vv = {
    height: 844,
    addEventListener: (t: string, f: () => void) => { (listeners[t] ??= []).push(f) },
    removeEventListener: (t: string, f: () => void) => { listeners[t] = (listeners[t] ?? []).filter(g => g !== f) },
  }
  const scrolls: number[] = []
  const win = {
    visualViewport: vv,
    innerHeight: 844,
    scrollY: 0,
    document: { documentElement: document.createElement('html') },
    requestAnimationFrame: (f: () => void) => {
      f()
      return 1
    },
    scrollTo: (_x: number, y: number) => { scrolls.push(y) },
  }
  return { win, vv, listeners, scrolls, fire: (t: string) => (listeners[t] ?? []).forEach(f => f()) }
}

describe('setupViewport', () => {
  it('follows the visible height when the keyboard opens and closes', () => {
    const p = phone()
    const stop = setupViewport(p.win as unknown as Window)
    const height = () => p.win.document.documentElement.style.getPropertyValue('--app-height')
    expect(height()).toBe('844px')
    p.vv.height = 480.4
    p.win.scrollY = 300
    p.fire('resize')
    expect(height()).toBe('480px')
    expect(p.scrolls).toEqual([0])
    stop()
    p.vv.height = 844
    p.fire('resize')
    expect(height()).toBe('480px')
  })
})
