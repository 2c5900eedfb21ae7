import type { PaginationProps } from 'naive-ui'
import type { Ref } from 'vue'
import { computed, onScopeDispose, ref, shallowReactive, shallowRef, toRaw, watch } from 'vue'
import { useLatestLoad } from './latestLoad'

/** One page of a server-paged list. */
export interface Page<T> {
  items: T[]
  total: number
}

/** What a page is asked for with: the filters in effect, the page and its size. */
export type PageQuery<F> = F & { page: number, pageSize: number }

/** The pager's props for `NDataTable` (`remote`) or `NPagination`. */
export type Pager = PaginationProps & { onUpdatePage: (page: number) => void, onUpdatePageSize: (size: number) => void }

export interface PagedTableOptions<F extends object, T> {
  /** Every filter with its empty value: the keys the table watches, and what `clearFilters` goes back to. */
  filters: F
  /** Where the filters start when it is not empty, e.g. read from the URL. */
  initial?: Partial<F>
  /** Filters typed by hand: their change applies after `debounceMs` without typing. */
  debounced?: (keyof F)[]
  debounceMs?: number
  pageSize: number
  pageSizes: number[]
  /** A narrow screen: the pager without a size picker and with fewer page buttons. */
  compact?: Readonly<Ref<boolean>>
  fetch: (query: PageQuery<F>, signal: AbortSignal) => Promise<Page<T>>
  /** Runs when a page has arrived, under the same signal: to fetch what fills a column, collect names… */
  onPage?: (items: T[], signal: AbortSignal) => void | Promise<void>
}

/**
 * A server-paged admin list: the page and its size, the filters (any change goes back to page 1 and
 * reads once; typed ones wait for a pause), loading / error / first-load state, the reload after an
 * edit or a delete, and the pager for `NDataTable` (`remote`) and `NPagination`. A slower, earlier
 * request never overwrites a newer one: each read aborts the one before it.
 */
export function usePagedTable<F extends object, T>(o: PagedTableOptions<F, T>) {
  const keys = Object.keys(o.filters) as (keyof F)[]
  const typed = new Set(o.debounced ?? [])
  /** The filters on screen, for `v-model`. */
  const filters = shallowReactive({ ...o.filters, ...o.initial }) as F
  /** The filters the list was last asked with (typed ones lag behind the screen while typing). */
  const applied = shallowRef<F>({ ...toRaw(filters) })
  const page = ref(1)
  const pageSize = ref(o.pageSize)
  const items = shallowRef<T[]>([])
  const total = ref(0)
  /** A page has arrived at least once. */
  const loaded = ref(false)

  const { loading, error, load } = useLatestLoad(async (signal) => {
    const res = await o.fetch({ ...applied.value, page: page.value, pageSize: pageSize.value }, signal)
    if (signal.aborted)
      return
    items.value = res.items
    total.value = res.total
    loaded.value = true
    await o.onPage?.(res.items, signal)
  })
  /** The list could not be read and there is nothing to show instead. */
  const failed = computed(() => !!error.value && !items.value.length)

  function goTo(p: number): void {
    page.value = p
    void load()
  }
  function setPageSize(size: number): void {
    pageSize.value = size
    goTo(1)
  }
  /** Reads the current page again, e.g. after an edit. */
  function reload(): Promise<void> {
    return load()
  }
  /** After `count` rows of this page were deleted: reads it again, or the one before when it is now past the end. */
  function removed(count = 1): void {
    const last = Math.max(1, Math.ceil((total.value - count) / pageSize.value))
    if (page.value > last)
      goTo(last)
    else
      void load()
  }

  let timer: ReturnType<typeof setTimeout> | undefined
  function apply(): void {
    clearTimeout(timer)
    const next = { ...toRaw(filters) }
    if (keys.every(k => Object.is(next[k], applied.value[k])))
      return
    applied.value = next
    goTo(1)
  }
  watch(() => keys.map(k => filters[k]), (now, before) => {
    clearTimeout(timer)
    if (keys.every(k => Object.is(filters[k], applied.value[k])))
      return // typed back to what is shown
    const onlyTyped = keys.every((k, i) => typed.has(k) || Object.is(now[i], before[i]))
    if (onlyTyped)
      timer = setTimeout(apply, o.debounceMs ?? 300)
    else
      apply()
  })
  onScopeDispose(() => clearTimeout(timer))

  /** Every filter back to empty, read at once (no wait for typed ones). */
  function clearFilters(): void {
    Object.assign(filters, o.filters)
    apply()
  }

  /** The pager, or `false` while everything fits on the first page. */
  const pagination = computed<Pager | false>(() => (total.value > pageSize.value || page.value > 1) && {
    page: page.value,
    pageSize: pageSize.value,
    itemCount: total.value,
    pageSizes: o.pageSizes,
    showSizePicker: !o.compact?.value,
    pageSlot: o.compact?.value ? 5 : 9,
    onUpdatePage: goTo,
    onUpdatePageSize: setPageSize,
  })

  void load()
  // Read-only outside: the page moves with `goTo` and the pager, the rest with each read.
  return {
    filters,
    applied: applied as Readonly<Ref<F>>,
    page: page as Readonly<Ref<number>>,
    pageSize: pageSize as Readonly<Ref<number>>,
    items: items as Readonly<Ref<T[]>>,
    total: total as Readonly<Ref<number>>,
    loaded: loaded as Readonly<Ref<boolean>>,
    loading: loading as Readonly<Ref<boolean>>,
    error: error as Readonly<Ref<string>>,
    failed,
    pagination,
    goTo,
    reload,
    removed,
    clearFilters,
  }
}
