/** Small formatters shared by the admin pages (locale-aware, no dependencies). */

export function formatDateTime(iso: string | null | undefined, locale: string): string {
  if (!iso)
    return '—'
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso))
}

/** "3 min ago", "yesterday", … ; `now` is injectable for tests. */
export function formatRelative(iso: string | null | undefined, locale: string, now = Date.now()): string {
  if (!iso)
    return '—'
  const diff = (Date.parse(iso) - now) / 1000
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' })
  const abs = Math.abs(diff)
  if (abs < 45)
    return rtf.format(0, 'second')
  if (abs < 3600)
    return rtf.format(Math.round(diff / 60), 'minute')
  if (abs < 86_400)
    return rtf.format(Math.round(diff / 3600), 'hour')
  if (abs < 30 * 86_400)
    return rtf.format(Math.round(diff / 86_400), 'day')
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(new Date(iso))
}

/** Milliseconds as "850 ms", "1.2 s", "3 min 5 s"; null → "—". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined)
    return '—'
  if (ms < 1000)
    return `${Math.round(ms)} ms`
  if (ms < 60_000)
    return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`
  const m = Math.floor(ms / 60_000)
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`
}

export function formatNumber(n: number | null | undefined, locale: string): string {
  if (n === null || n === undefined)
    return '—'
  return new Intl.NumberFormat(locale, { notation: n >= 100_000 ? 'compact' : 'standard', maximumFractionDigits: 1 }).format(n)
}

/** Bytes as "812 kB", "12.3 MB", "1.2 GB" (decimal units, as disks and file managers count). */
export function formatBytes(n: number | null | undefined, locale: string): string {
  if (n === null || n === undefined)
    return '—'
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const
  let i = 0
  let v = n
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return new Intl.NumberFormat(locale, { style: 'unit', unit: units[i], unitDisplay: 'short', maximumFractionDigits: v < 10 && i > 0 ? 1 : 0 }).format(v)
}

/** Palette for per-model series, readable on light and dark backgrounds. */
export const SERIES_COLORS = ['#10a37f', '#6366f1', '#f59e0b', '#ec4899', '#0ea5e9', '#84cc16', '#a855f7', '#ef4444', '#14b8a6', '#f97316']
