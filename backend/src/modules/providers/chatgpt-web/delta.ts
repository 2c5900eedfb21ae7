/**
 * ChatGPT's "v1" delta encoding (docs/architecture.md, "Upstream wire formats"): documents added at the root path, then
 * operations against them. A bare `{"v": …}` repeats the previous operation on the previous path.
 */

export type DeltaOpName = 'append' | 'replace' | 'add' | 'remove' | 'truncate' | 'patch'

export interface DeltaOp {
  p?: string
  o?: DeltaOpName | string
  v?: unknown
  c?: number
}

function parsePointer(p: string): string[] {
  if (p === '')
    return []
  return p.replace(/^\//, '').split('/').map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])

/** Walks to the parent of the path's last key, creating objects on the way. */
function parentOf(root: unknown, keys: string[]): { parent: any, key: string } | undefined {
  let node: any = root
  for (const k of keys.slice(0, -1)) {
    if (FORBIDDEN.has(k) || node === null || typeof node !== 'object')
      return undefined
    node[k] ??= {}
    node = node[k]
  }
  const key = keys.at(-1)!
  if (FORBIDDEN.has(key) || node === null || typeof node !== 'object')
    return undefined
  return { parent: node, key }
}

function indexOf(arr: unknown[], key: string): number {
  return key === '-' ? arr.length : Number(key)
}

/**
 * Applies one operation to `doc` and returns the (possibly new) document. Unknown operations and
 * paths that cannot be walked are ignored: an upstream quirk must not end the answer.
 */
export function applyOp(doc: unknown, op: { p: string, o: string, v: unknown }): unknown {
  if (op.o === 'patch') {
    let d = doc
    for (const sub of Array.isArray(op.v) ? op.v as DeltaOp[] : [])
      d = applyOp(d, { p: sub.p ?? op.p, o: sub.o ?? 'append', v: sub.v })
    return d
  }
  const keys = parsePointer(op.p)
  if (!keys.length) {
    switch (op.o) {
      case 'add':
      case 'replace':
        return op.v
      case 'append':
        return appendTo(doc, op.v)
      case 'remove':
        return undefined
      default:
        return doc
    }
  }
  const at = parentOf(doc, keys)
  if (!at)
    return doc
  const { parent, key } = at
  const isArr = Array.isArray(parent)
  switch (op.o) {
    case 'append':
      if (isArr)
        parent[indexOf(parent, key)] = appendTo(parent[indexOf(parent, key)], op.v)
      else parent[key] = appendTo(parent[key], op.v)
      break
    case 'replace':
      if (isArr)
        parent[indexOf(parent, key)] = op.v
      else parent[key] = op.v
      break
    case 'add':
      if (isArr)
        parent.splice(indexOf(parent, key), 0, op.v)
      else parent[key] = op.v
      break
    case 'remove':
      if (isArr)
        parent.splice(indexOf(parent, key), 1)
      else delete parent[key]
      break
    case 'truncate': {
      const n = Number(op.v)
      const target = isArr ? parent[indexOf(parent, key)] : parent[key]
      if (Number.isInteger(n) && n >= 0 && (typeof target === 'string' || Array.isArray(target))) {
        const cut = target.slice(0, n)
        if (isArr)
          parent[indexOf(parent, key)] = cut
        else parent[key] = cut
      }
      break
    }
  }
  return doc
}

function appendTo(target: unknown, v: unknown): unknown {
  if (typeof target === 'string')
    return target + (typeof v === 'string' ? v : '')
  if (Array.isArray(target))
    return target.concat(Array.isArray(v) ? v : [v])
  if (isObject(target) && isObject(v))
    return Object.assign(target, v)
  if (target === undefined || target === null)
    return v
  return target
}

/** The documents of one v1 stream, with the "current document" and "previous operation" rules. */
export class DeltaDocuments {
  private readonly docs = new Map<number, unknown>()
  private current = 0
  private last: { p: string, o: string } | undefined

  /** Applies one `delta` event; returns the document it touched. */
  apply(op: DeltaOp): unknown {
    if (typeof op.c === 'number')
      this.current = op.c
    const p = op.p ?? this.last?.p
    const o = op.o ?? this.last?.o
    if (p === undefined || o === undefined)
      return this.docs.get(this.current)
    const doc = applyOp(this.docs.get(this.current), { p, o, v: op.v })
    this.docs.set(this.current, doc)
    if (o === 'patch' && Array.isArray(op.v) && op.v.length) {
      const lastSub = op.v.at(-1) as DeltaOp
      this.last = { p: lastSub.p ?? p, o: lastSub.o ?? 'append' }
    }
    else {
      this.last = { p, o }
    }
    return doc
  }
}
