import { describe, expect, it } from 'vitest'
import { labelStride, niceScale, shortLabel, stackSeries } from './chart'

describe('asks chart helpers', () => {
  it('rounds the axis up to 1/2/5 steps', () => {
    expect(niceScale(0)).toEqual({ max: 4, step: 1 })
    expect(niceScale(7)).toEqual({ max: 8, step: 2 })
    expect(niceScale(93)).toEqual({ max: 100, step: 50 })
    // Counts: never a fractional step.
    expect(niceScale(3)).toEqual({ max: 3, step: 1 })
  })

  it('stacks per-model counts in a fixed order', () => {
    const bars = stackSeries([
      { key: '2024-03-01', start: '', asks: 5, byModel: { b: 2, a: 3 }, errors: 0 },
      { key: '2024-03-02', start: '', asks: 0, byModel: {}, errors: 0 },
    ], ['a', 'b'])
    expect(bars[0]!.segments).toEqual([{ model: 'a', value: 3, y0: 0, y1: 3 }, { model: 'b', value: 2, y0: 3, y1: 5 }])
    expect(bars[1]!.segments).toEqual([])
  })

  it('thins labels and shortens them', () => {
    expect(labelStride(30, 10)).toBe(3)
    expect(labelStride(5, 10)).toBe(1)
    expect(shortLabel('2024-03-14', 'day')).toBe('03-14')
    expect(shortLabel('2024-03-14 13:00', 'hour')).toBe('13:00')
    expect(shortLabel('2024-03-14 00:00', 'hour')).toBe('03-14')
  })
})
