/** The split of a cap's last part (modules/upstreams/cap-share.ts): the arithmetic members see as "your share". */
import { describe, expect, it } from 'vitest'
import { splitShare } from '../src/modules/upstreams/cap-share.js'

const many = (n: number, id: number): number[] => Array.from({ length: n }).fill(id) as number[]
const asks = (...ids: number[]) => ids.map(userId => ({ userId, weight: userId === 1 ? 3 : 1 }))

describe('splitShare', () => {
  it('is not in force while more than below_percent of the cap is left', () => {
    expect(splitShare('equal', { total: 80, remaining: 61 }, 25, asks(...many(19, 1)), { userId: 2, weight: 1 })).toBeUndefined()
  })

  it('by weight: a member of weight 3 gets three times the part of a member of weight 1', () => {
    // 80 asks, 25 % → the last 20 are split; 60 used (all by member 1 before the split).
    const window = asks(...many(60, 1), 2)
    const heavy = splitShare('weight', { total: 80, remaining: 19 }, 25, window, { userId: 1, weight: 3 })
    const light = splitShare('weight', { total: 80, remaining: 19 }, 25, window, { userId: 2, weight: 1 })
    expect(heavy).toEqual({ remaining: 15, of: 15, members: 2 })
    expect(light).toEqual({ remaining: 4, of: 5, members: 2 })
  })

  it('equal: the parts add up to exactly what is split; the odd one goes to who used the window least, then who came first', () => {
    // 10 asks, 70 % → the last 7 are split among members 1, 2 and 3; 2 and 3 each used one of them.
    const window = asks(1, 1, 1, 2, 3)
    const parts = [1, 2, 3].map(userId => splitShare('equal', { total: 10, remaining: 5 }, 70, window, { userId, weight: 1 })!)
    expect(parts).toEqual([{ remaining: 2, of: 2, members: 3 }, { remaining: 2, of: 3, members: 3 }, { remaining: 1, of: 2, members: 3 }])
    expect(parts.reduce((n, p) => n + p.of, 0)).toBe(7)
  })

  it('a member who has not asked yet counts as active when they look or ask', () => {
    expect(splitShare('equal', { total: 10, remaining: 5 }, 70, asks(1, 1, 1, 2, 3), { userId: 4, weight: 1 })).toMatchObject({ members: 4 })
  })
})
