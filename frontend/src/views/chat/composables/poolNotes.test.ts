import type { ModelPool, ModelStatus } from '@cws/backend/contracts'
import type { NoteFormat } from './poolNotes'
import { afterEach, describe, expect, it } from 'vitest'
import { i18n } from '../../../locales'
import { fallbackFor, fallbackMode, groupCapText, poolBannerText, poolMark, queuedText, shareText } from './poolNotes'

// The real messages of both languages; times shown as their ISO clock part, so results read plainly.
const f: NoteFormat = { t: (key, named) => i18n.global.t(key, named ?? {}), time: iso => iso.slice(11, 16) }
afterEach(() => {
  i18n.global.locale.value = 'en'
})

const OK: ModelPool = { state: 'ok', until: null, groupCap: null, share: null, fallback: null }
function model(key: string, name: string, pool: Partial<ModelPool> | null, more: Partial<ModelStatus> = {}): ModelStatus {
  return {
    key,
    name,
    upstreamId: 'web',
    upstreamType: 'chatgpt-web',
    isDemo: false,
    remaining: { total: -1, model: -1 },
    windows: [],
    available: true,
    reason: null,
    nextAllowedAt: null,
    ...(pool ? { pool: { ...OK, ...pool } } : {}),
    ...more,
  }
}
const gpt35 = model('gpt-35', 'GPT-3.5', {})

describe('what a model\'s accounts say', () => {
  it('an ok pool, or none at all, has no mark and no banner', () => {
    for (const m of [model('gpt-4o', 'GPT-4o', {}), model('gpt-4o', 'GPT-4o', null)]) {
      expect(poolMark(m, f)).toBeNull()
      expect(poolBannerText(m, null, f)).toBeNull()
    }
  })

  it('cooling down: the mark and the banner say until when, and offer the fallback', () => {
    const m = model('gpt-4o', 'GPT-4o', { state: 'cooling', until: '2026-12-04T15:40:00.000Z', fallback: 'gpt-35' })
    expect(poolMark(m, f)).toBe('Cooling down, back about 15:40')
    expect(fallbackFor(m, [m, gpt35])).toBe(gpt35)
    expect(poolBannerText(m, gpt35, f)).toBe('GPT-4o is cooling down until about 15:40. Wait, or use GPT-3.5 instead.')
    expect(poolBannerText(m, null, f)).toBe('GPT-4o is cooling down until about 15:40. Your questions wait in line until then.')
  })

  it('every account down: no time, and the member is told what to do', () => {
    const m = model('gpt-4o', 'GPT-4o', { state: 'down' })
    expect(poolMark(m, f)).toBe('All accounts are down')
    expect(poolBannerText(m, null, f)).toBe('Every account for GPT-4o is down; the administrator has been told. Try again later, or pick another model.')
    i18n.global.locale.value = 'zh-CN'
    expect(poolMark(m, f)).toBe('所有账号都不可用')
    expect(poolBannerText(m, null, f)).toBe('GPT-4o 的所有账号都不可用，已通知管理员。请稍后再试，或换一个模型。')
  })

  it('capped, the group\'s cap left and the member\'s share', () => {
    const capped = model('gpt-4o', 'GPT-4o', { state: 'capped', until: '2026-12-04T18:05:00.000Z', groupCap: { remaining: 0, total: 80, resetsAt: '2026-12-04T18:05:00.000Z' } })
    expect(poolMark(capped, f)).toBe('The group’s cap is reached, back about 18:05')
    const open = model('gpt-4o', 'GPT-4o', { groupCap: { remaining: 23, total: 80, resetsAt: '2026-12-04T15:40:00.000Z' }, share: { remaining: 3, of: 4, members: 5 } })
    expect(poolMark(open, f)).toBeNull()
    expect(groupCapText(open, f, true)).toBe('GPT-4o: about 23 of 80 left for the group until 15:40')
    expect(shareText(open, f)).toBe('your share: 3 of 4 left')
    i18n.global.locale.value = 'zh-CN'
    expect(groupCapText(open, f)).toBe('全组约剩 23 / 80 次，15:40 重置')
    expect(shareText(open, f)).toBe('你的份额：剩 3 / 4 次')
  })

  it('a used share is a reason too, back when the group\'s cap resets', () => {
    const m = model('gpt-4o', 'GPT-4o', { groupCap: { remaining: 6, total: 80, resetsAt: '2026-12-04T16:10:00.000Z' }, share: { remaining: 0, of: 2, members: 3 }, fallback: 'gpt-35' }, { available: false, reason: 'CAP_SHARE_USED' })
    expect(poolMark(m, f)).toBe('Your share is used, back about 16:10')
    expect(poolBannerText(m, gpt35, f)).toBe('You have used your share of what the group has left of GPT-4o; it comes back about 16:10. Wait, or use GPT-3.5 instead.')
  })

  it('no fallback is offered that the member may not use or that is down itself', () => {
    const m = model('gpt-4o', 'GPT-4o', { state: 'cooling', fallback: 'gpt-35' })
    expect(fallbackFor(m, [m])).toBeNull()
    expect(fallbackFor(m, [m, { ...gpt35, available: false }])).toBeNull()
    expect(fallbackFor(m, [m, model('gpt-35', 'GPT-3.5', { state: 'down' })])).toBeNull()
  })

  it('a fallback on another upstream than the conversation continues in a new conversation', () => {
    const m = model('gpt-4o', 'GPT-4o', { state: 'cooling', fallback: 'mini' })
    const mini = model('mini', 'Mini', {}, { upstreamId: 'api', upstreamType: 'openai' })
    expect(fallbackMode({ id: null, model: 'gpt-4o' }, mini, [m, mini])).toBe('switch')
    expect(fallbackMode({ id: 'c1', model: 'gpt-4o' }, mini, [m, mini])).toBe('new')
    expect(fallbackMode({ id: 'c1', model: 'gpt-4o' }, gpt35, [m, gpt35])).toBe('switch')
  })
})

describe('a waiting answer', () => {
  it('says why it waits beyond its turn, with the ETA that includes that wait', () => {
    expect(queuedText({ position: 1, etaSeconds: 720, waitingFor: 'cooling' }, f)).toBe('Waiting: about 12 min, the account is cooling down')
    expect(queuedText({ position: 2, etaSeconds: 40, waitingFor: 'paced' }, f)).toBe('Waiting: about 40 s, the account spaces out its questions')
    expect(queuedText({ position: 3, etaSeconds: 30 }, f)).toBe('Waiting in line: position 3, about 30 s')
    i18n.global.locale.value = 'zh-CN'
    expect(queuedText({ position: 1, etaSeconds: 720, waitingFor: 'capped' }, f)).toBe('等待中：约 12 分钟，账号已达到用量上限')
  })
})
