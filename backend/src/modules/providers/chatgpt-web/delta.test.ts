import { describe, expect, it } from 'vitest'
import { applyOp, DeltaDocuments } from './delta.js'

describe('v1 delta operations', () => {
  it('append concatenates strings, pushes to arrays, merges objects', () => {
    const doc: any = { s: 'ab', a: [1], o: { x: 1 } }
    applyOp(doc, { p: '/s', o: 'append', v: 'cd' })
    applyOp(doc, { p: '/a', o: 'append', v: [2, 3] })
    applyOp(doc, { p: '/o', o: 'append', v: { y: 2 } })
    expect(doc).toEqual({ s: 'abcd', a: [1, 2, 3], o: { x: 1, y: 2 } })
  })

  it('replace, add, remove, truncate and patch', () => {
    const doc: any = { m: { parts: ['hello'], list: [1, 2, 3, 4], status: 'in_progress' } }
    applyOp(doc, { p: '/m/status', o: 'replace', v: 'done' })
    applyOp(doc, { p: '/m/new', o: 'add', v: { k: 1 } })
    applyOp(doc, { p: '/m/list/1', o: 'add', v: 9 })
    applyOp(doc, { p: '/m/list/0', o: 'remove', v: undefined })
    applyOp(doc, { p: '/m/list', o: 'truncate', v: 2 })
    applyOp(doc, { p: '', o: 'patch', v: [{ p: '/m/parts/0', o: 'append', v: ' world' }, { p: '/m/parts/0', o: 'truncate', v: 7 }, { p: '/m/new', o: 'remove' }] })
    expect(doc).toEqual({ m: { parts: ['hello w'], list: [9, 2], status: 'done' } })
  })

  it('ignores unknown ops and refuses prototype paths', () => {
    const doc: any = { a: 1 }
    applyOp(doc, { p: '/a', o: 'teleport', v: 2 })
    applyOp(doc, { p: '/__proto__/polluted', o: 'add', v: true })
    expect(doc).toEqual({ a: 1 })
    expect(({} as any).polluted).toBeUndefined()
  })

  it('a bare {v} repeats the previous op and path on the current document; "c" switches documents', () => {
    const docs = new DeltaDocuments()
    docs.apply({ p: '', o: 'add', v: { t: '' }, c: 0 })
    docs.apply({ p: '/t', o: 'append', v: 'a' })
    expect(docs.apply({ v: 'b' })).toEqual({ t: 'ab' })
    expect(docs.apply({ p: '', o: 'add', v: { t: 'x' }, c: 1 })).toEqual({ t: 'x' })
    docs.apply({ p: '/t', o: 'append', v: 'y' })
    expect(docs.apply({ v: 'z' })).toEqual({ t: 'xyz' })
    // Switching back to document 0 with a bare value repeats the last op (append /t) there.
    expect(docs.apply({ v: '!', c: 0 })).toEqual({ t: 'ab!' })
  })
})
