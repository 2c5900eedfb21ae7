import type { Page, PageQuery, Pager } from './pagedTable'
import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, ref } from 'vue'
import { ApiError } from '../../../api/http'
import { usePagedTable } from './pagedTable'

interface Filters { userId: number | null, q: string }
type Query = PageQuery<Filters>

/** A request the test answers when it likes. */
interface Pending { query: Query, signal: AbortSignal, resolve: (p: Page<string>) => void, reject: (e: unknown) => void }

/** The table over a fake server: every request waits in `pending` until answered. */
function setup(opts: { initial?: Partial<Filters>, compact?: boolean } = {}) {
  const pending: Pending[] = []
  const fetch = vi.fn((query: Query, signal: AbortSignal) => new Promise<Page<string>>((resolve, reject) => pending.push({ query, signal, resolve, reject })))
  const onPage = vi.fn()
  const scope = effectScope()
  const table = scope.run(() => usePagedTable<Filters, string>({
    filters: { userId: null, q: '' },
    initial: opts.initial,
    debounced: ['q'],
    pageSize: 10,
    pageSizes: [10, 20],
    compact: ref(opts.compact ?? false),
    fetch,
    onPage,
  }))!
  /** Answers the latest request with `total` rows, the page's share of them named `r<n>`. */
  async function answer(total: number, req = pending.at(-1)!): Promise<void> {
    const from = (req.query.page - 1) * req.query.pageSize
    const n = Math.max(0, Math.min(req.query.pageSize, total - from))
    req.resolve({ items: Array.from({ length: n }, (_, i) => `r${from + i + 1}`), total })
    await flushPromises()
  }
  return { table, fetch, onPage, pending, answer, stop: () => scope.stop() }
}
function pager(p: Pager | false): Pager {
  if (!p)
    throw new Error('no pager shown')
  return p
}

afterEach(() => {
  vi.useRealTimers()
})

describe('a paged admin table', () => {
  it('reads page 1 with the initial filters, and shows a pager once there is more than one page', async () => {
    const { table, fetch, onPage, answer } = setup({ initial: { userId: 7 } })
    expect(fetch).toHaveBeenCalledWith({ userId: 7, q: '', page: 1, pageSize: 10 }, expect.any(AbortSignal))
    expect(table.loading.value).toBe(true)
    expect(table.loaded.value).toBe(false)
    await answer(25)
    expect(table.items.value).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r10'])
    expect(table.total.value).toBe(25)
    expect([table.loading.value, table.loaded.value]).toEqual([false, true])
    expect(onPage).toHaveBeenCalledWith(table.items.value, expect.any(AbortSignal))
    expect(pager(table.pagination.value)).toMatchObject({ page: 1, pageSize: 10, itemCount: 25, pageSizes: [10, 20], showSizePicker: true, pageSlot: 9 })
  })

  it('hides the pager while everything fits on one page; a phone gets the compact one', async () => {
    const one = setup()
    await one.answer(10)
    expect(one.table.pagination.value).toBe(false)
    const phone = setup({ compact: true })
    await phone.answer(11)
    expect(pager(phone.table.pagination.value)).toMatchObject({ showSizePicker: false, pageSlot: 5 })
  })

  it('the pager moves between pages; a new page size starts again at page 1', async () => {
    const { table, fetch, answer } = setup()
    await answer(45)
    pager(table.pagination.value).onUpdatePage(3)
    expect(fetch).toHaveBeenLastCalledWith(expect.objectContaining({ page: 3, pageSize: 10 }), expect.any(AbortSignal))
    await answer(45)
    expect(table.items.value[0]).toBe('r21')
    pager(table.pagination.value).onUpdatePageSize(20)
    expect(fetch).toHaveBeenLastCalledWith(expect.objectContaining({ page: 1, pageSize: 20 }), expect.any(AbortSignal))
    expect(fetch).toHaveBeenCalledTimes(3)
  })

  it('a filter change goes back to page 1 with one request', async () => {
    const { table, fetch, answer } = setup()
    await answer(45)
    table.goTo(3)
    await answer(45)
    fetch.mockClear()
    table.filters.userId = 8
    await nextTick()
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(fetch).toHaveBeenCalledWith({ userId: 8, q: '', page: 1, pageSize: 10 }, expect.any(AbortSignal))
    expect(table.page.value).toBe(1)
    expect(table.applied.value).toEqual({ userId: 8, q: '' })
  })

  it('a typed filter applies after a pause, once; typing back to what is shown asks nothing', async () => {
    vi.useFakeTimers()
    const { table, fetch, answer } = setup()
    await answer(5)
    fetch.mockClear()
    for (const text of ['k', 'ky', 'kyo']) {
      table.filters.q = text
      await nextTick()
      vi.advanceTimersByTime(200)
    }
    expect(fetch).not.toHaveBeenCalled()
    vi.advanceTimersByTime(100)
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(fetch).toHaveBeenCalledWith({ userId: null, q: 'kyo', page: 1, pageSize: 10 }, expect.any(AbortSignal))
    await answer(1)

    table.filters.q = 'kyot'
    await nextTick()
    table.filters.q = 'kyo'
    await nextTick()
    vi.advanceTimersByTime(1000)
    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('a filter chosen while typing takes the typed text along at once', async () => {
    vi.useFakeTimers()
    const { table, fetch, answer } = setup()
    await answer(5)
    fetch.mockClear()
    table.filters.q = 'kyoto'
    await nextTick()
    table.filters.userId = 3
    await nextTick()
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(fetch).toHaveBeenCalledWith({ userId: 3, q: 'kyoto', page: 1, pageSize: 10 }, expect.any(AbortSignal))
    vi.advanceTimersByTime(1000)
    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('clearing the filters reads once, without waiting for the typed one', async () => {
    vi.useFakeTimers()
    const { table, fetch, answer } = setup({ initial: { userId: 7, q: 'kyoto' } })
    await answer(5)
    fetch.mockClear()
    table.clearFilters()
    await nextTick()
    expect(table.filters).toEqual({ userId: null, q: '' })
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(fetch).toHaveBeenCalledWith({ userId: null, q: '', page: 1, pageSize: 10 }, expect.any(AbortSignal))
    vi.advanceTimersByTime(1000)
    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('a slower, earlier answer does not overwrite a newer one, nor its error', async () => {
    const { table, pending, answer } = setup()
    await answer(30)
    table.filters.userId = 1
    await nextTick()
    table.filters.userId = 2
    await nextTick()
    const [, first, second] = pending
    expect(first!.signal.aborted).toBe(true)
    await answer(3, second)
    expect(table.items.value).toEqual(['r1', 'r2', 'r3'])
    await answer(30, first)
    expect(table.items.value).toEqual(['r1', 'r2', 'r3'])
    expect(table.total.value).toBe(3)

    table.reload()
    const late = pending.at(-1)!
    table.reload()
    late.reject(new ApiError({ code: 'INTERNAL', status: 500, message: 'x' }))
    await answer(3)
    expect(table.error.value).toBe('')
    expect(table.loading.value).toBe(false)
  })

  it('a reload after an edit keeps the page', async () => {
    const { table, fetch, answer } = setup()
    await answer(25)
    table.goTo(2)
    await answer(25)
    void table.reload()
    expect(fetch).toHaveBeenLastCalledWith(expect.objectContaining({ page: 2 }), expect.any(AbortSignal))
    await answer(25)
    expect(table.page.value).toBe(2)
    expect(table.items.value[0]).toBe('r11')
  })

  it('deleting the last row of the last page steps back one page; any other row keeps the page', async () => {
    const { table, fetch, answer } = setup()
    await answer(21)
    table.goTo(3)
    await answer(21)
    expect(table.items.value).toEqual(['r21'])
    table.removed()
    expect(fetch).toHaveBeenLastCalledWith(expect.objectContaining({ page: 2 }), expect.any(AbortSignal))
    await answer(20)
    expect(table.page.value).toBe(2)

    table.removed()
    expect(fetch).toHaveBeenLastCalledWith(expect.objectContaining({ page: 2 }), expect.any(AbortSignal))
    await answer(19)
    expect(table.items.value).toHaveLength(9)
  })

  it('an error with nothing to show is a failure; a retry clears it', async () => {
    const { table, pending, answer } = setup()
    pending[0]!.reject(new ApiError({ code: 'NETWORK_ERROR', status: 0, message: 'x' }))
    await flushPromises()
    expect(table.error.value).toContain('Cannot reach the server')
    expect(table.failed.value).toBe(true)
    expect(table.loaded.value).toBe(false)
    void table.reload()
    expect(table.error.value).toBe('')
    await answer(2)
    expect(table.failed.value).toBe(false)
    expect(table.items.value).toEqual(['r1', 'r2'])

    // Once rows are shown, a failed reload keeps them: an error, not a failure.
    void table.reload()
    pending.at(-1)!.reject(new ApiError({ code: 'NETWORK_ERROR', status: 0, message: 'x' }))
    await flushPromises()
    expect(table.error.value).not.toBe('')
    expect(table.failed.value).toBe(false)
    expect(table.items.value).toEqual(['r1', 'r2'])
  })

  it('ending the scope aborts the request in flight and a pending typed filter', async () => {
    vi.useFakeTimers()
    const { table, fetch, pending, answer, stop } = setup()
    await answer(5)
    table.filters.q = 'x'
    await nextTick()
    void table.reload()
    stop()
    expect(pending.at(-1)!.signal.aborted).toBe(true)
    vi.advanceTimersByTime(1000)
    expect(fetch).toHaveBeenCalledTimes(2)
  })
})
