import type { StatsSeriesPoint } from '@cws/backend/contracts'

/** A "nice" axis maximum and tick step for counts (1, 2, 5 × 10^n). */
export function niceScale(max: number, ticks = 4): { max: number, step: number } {
  if (max <= 0)
    return { max: ticks, step: 1 }
  const raw = max / ticks
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw) ?? 10 * mag
  const s = Math.max(1, step)
  return { max: Math.ceil(max / s) * s, step: s }
}

export interface StackedBar {
  key: string
  total: number
  /** Bottom-up segments, in the models' order. */
  segments: Array<{ model: string, value: number, y0: number, y1: number }>
}

/** Stacks each bucket's per-model counts in a fixed model order (missing models count 0). */
export function stackSeries(series: StatsSeriesPoint[], models: string[]): StackedBar[] {
  return series.map((p) => {
    let y = 0
    const segments = models.flatMap((model) => {
      const value = p.byModel[model] ?? 0
      if (!value)
        return []
      const seg = { model, value, y0: y, y1: y + value }
      y += value
      return [seg]
    })
    return { key: p.key, total: p.asks, segments }
  })
}

/** Every n-th label so that about `room` of them fit. */
export function labelStride(count: number, room: number): number {
  return Math.max(1, Math.ceil(count / Math.max(1, room)))
}

/** Short axis label: "03-14" for days, "14:00" for hours (and the date at midnight). */
export function shortLabel(key: string, bucket: 'day' | 'hour'): string {
  if (bucket === 'day')
    return key.slice(5)
  const hour = key.slice(11)
  return hour === '00:00' ? key.slice(5, 10) : hour
}
