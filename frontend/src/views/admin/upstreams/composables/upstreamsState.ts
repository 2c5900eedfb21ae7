import type { UpstreamSetting } from '@cws/backend/contracts'
import type { DraftUpstream } from './upstreamsDraft'
import { computed, ref } from 'vue'
import { fromSetting, toInput, validateList } from './upstreamsDraft'

/** The page's state: the list in effect (`saved`) and the draft being edited. */
export function useUpstreamsDraft() {
  const saved = ref<UpstreamSetting[]>([])
  const draft = ref<DraftUpstream[]>([])
  /** uids of the upstreams added in this draft. */
  const added = ref(new Set<number>())

  const body = computed(() => ({ upstreams: draft.value.map(toInput) }))
  const dirty = computed(() => JSON.stringify(body.value.upstreams) !== JSON.stringify(saved.value.map(s => toInput(fromSetting(s)))))
  const problems = computed(() => validateList(draft.value, saved.value))
  /** Saved upstreams no longer in the draft (by id). */
  const removed = computed(() => saved.value.filter(s => !draft.value.some(d => d.id.trim() === s.id)).map(s => s.id))

  /** The server's list became the truth (after a load, save or revert): the draft starts over from it. */
  function reset(list: UpstreamSetting[]): void {
    saved.value = list
    draft.value = list.map(fromSetting)
    added.value = new Set()
  }

  function upsert(d: DraftUpstream): void {
    const i = draft.value.findIndex(x => x.uid === d.uid)
    if (i === -1) {
      draft.value = [...draft.value, d]
      added.value = new Set([...added.value, d.uid])
    }
    else {
      draft.value = draft.value.map(x => (x.uid === d.uid ? d : x))
    }
  }

  function remove(uid: number): void {
    draft.value = draft.value.filter(x => x.uid !== uid)
  }

  function move(uid: number, by: -1 | 1): void {
    const i = draft.value.findIndex(x => x.uid === uid)
    const j = i + by
    if (i === -1 || j < 0 || j >= draft.value.length)
      return
    const list = [...draft.value]
    ;[list[i], list[j]] = [list[j]!, list[i]!]
    draft.value = list
  }

  /** Whether one upstream differs from the saved one of the same id (new, or any field changed). */
  function changed(d: DraftUpstream): boolean {
    if (added.value.has(d.uid))
      return true
    const s = saved.value.find(x => x.id === d.id.trim())
    return !s || JSON.stringify(toInput(d)) !== JSON.stringify(toInput(fromSetting(s)))
  }

  /** The upstreams of `others` apart from `uid` (what an edited one must not clash with). */
  function othersThan(uid: number): DraftUpstream[] {
    return draft.value.filter(x => x.uid !== uid)
  }

  return { saved, draft, added, body, dirty, problems, removed, reset, upsert, remove, move, changed, othersThan }
}
