import type { AdminUser, MemberSummary } from '@cws/backend/contracts'
import type { VNode } from 'vue'
import { NSkeleton, NTag, NTooltip } from 'naive-ui'
import { h } from 'vue'
import { useI18n } from 'vue-i18n'
import { formatDateTime, formatRelative } from '../../composables/format'

/**
 * The members list's cells that the table and the phone cards share. `summary` is what remains of
 * the member's asks; it comes right after the list, so it may still be missing.
 */
export function useMemberCells() {
  const { t, locale } = useI18n()

  /** Disabled, expired, asking off. */
  function statusTags(u: AdminUser, s: MemberSummary | undefined): VNode[] {
    const tags: VNode[] = []
    if (!u.enabled)
      tags.push(h(NTag, { size: 'small', type: 'error', bordered: false }, () => t('admin.users.disabled')))
    if (s?.expired)
      tags.push(h(NTag, { size: 'small', type: 'warning', bordered: false }, () => t('admin.users.expired')))
    else if (s && !s.limitsEnabled)
      tags.push(h(NTag, { size: 'small', type: 'warning', bordered: false }, () => t('admin.users.askingOff')))
    return tags
  }

  /** The asks left in total and per model (the first four), or a skeleton while they load. */
  function remaining(u: AdminUser, s: MemberSummary | undefined): VNode {
    if (!s)
      return h(NSkeleton, { text: true, style: 'width: 90px' })
    const count = (n: number): string => (n === -1 ? '∞' : String(n))
    const tags: VNode[] = []
    if (s.totalAsks !== -1)
      tags.push(h(NTag, { size: 'small', type: s.totalAsks === 0 ? 'error' : 'info', bordered: false }, () => `${t('admin.users.totalShort')} ${count(s.totalAsks)}`))
    for (const m of s.models.slice(0, 4))
      tags.push(h(NTag, { size: 'small', type: m.remaining === 0 ? 'error' : 'default', bordered: false, title: m.name }, () => `${m.name} ${count(m.remaining)}`))
    if (s.models.length > 4)
      tags.push(h(NTag, { size: 'small', bordered: false }, () => `+${s.models.length - 4}`))
    if (!s.models.length)
      tags.push(h(NTag, { size: 'small', type: 'error', bordered: false }, () => t('admin.users.noModels')))
    return h('div', { 'class': 'tags', 'data-testid': `remaining-${u.username}` }, tags)
  }

  function lastActive(u: AdminUser): VNode {
    return u.lastActiveAt
      ? h(NTooltip, null, { trigger: () => h('span', formatRelative(u.lastActiveAt, locale.value)), default: () => formatDateTime(u.lastActiveAt, locale.value) })
      : h('span', { class: 'muted' }, t('admin.users.never'))
  }

  return { statusTags, remaining, lastActive }
}
