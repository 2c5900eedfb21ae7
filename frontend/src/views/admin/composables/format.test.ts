import { describe, expect, it } from 'vitest'
import { formatBytes } from './format'

describe('formatBytes', () => {
  it('shows the database size in decimal units, one decimal below 10', () => {
    expect(formatBytes(812, 'en')).toBe('812 byte')
    expect(formatBytes(4096, 'en')).toBe('4.1 kB')
    expect(formatBytes(12_345_678, 'en')).toBe('12 MB')
    expect(formatBytes(1_234_567_890, 'en')).toBe('1.2 GB')
    expect(formatBytes(null, 'en')).toBe('—')
  })
})
