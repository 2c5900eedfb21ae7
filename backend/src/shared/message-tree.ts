/**
 * The message tree of a conversation: messages point to their parent (`parentId`); a regenerated
 * answer or an edited question is a sibling of the one it replaces. One implementation, used by the
 * ask planner on the server and by the chat and the admin views in the SPA (`@cws/backend/tree`).
 * Pure, no dependencies. See docs/architecture.md, "Conversations as trees".
 */
export interface TreeNode {
  id: string
  parentId: string | null
}

/** The path from the root to `id`, oldest first ([] when `id` is null or unknown). Cycles are cut. */
export function pathTo<M extends TreeNode>(byId: ReadonlyMap<string, M>, id: string | null): M[] {
  const out: M[] = []
  const seen = new Set<string>()
  for (let m = id ? byId.get(id) : undefined; m && !seen.has(m.id); m = m.parentId ? byId.get(m.parentId) : undefined) {
    seen.add(m.id)
    out.push(m)
  }
  return out.reverse()
}

/** The branch ending at `leafId` (default: the newest message, i.e. the last of `all`), root first. */
export function branch<M extends TreeNode>(all: readonly M[], leafId: string | null): M[] {
  if (!all.length)
    return []
  const byId = new Map(all.map(m => [m.id, m]))
  const leaf = (leafId && byId.has(leafId)) ? leafId : all[all.length - 1]!.id
  return pathTo(byId, leaf)
}

/** Children by parent id (null = roots), each list in the order of `all` (oldest first). */
export function childrenOf<M extends TreeNode>(all: readonly M[]): Map<string | null, M[]> {
  const out = new Map<string | null, M[]>()
  for (const m of all) {
    const list = out.get(m.parentId)
    if (list)
      list.push(m)
    else
      out.set(m.parentId, [m])
  }
  return out
}

/** The newest message in the subtree rooted at `id` (following the newest child at each step). */
export function newestLeaf<M extends TreeNode>(all: readonly M[], id: string): string {
  const children = childrenOf(all)
  let cur = id
  for (let guard = 0; guard < all.length; guard++) {
    const kids = children.get(cur)
    if (!kids?.length)
      break
    cur = kids[kids.length - 1]!.id
  }
  return cur
}

/** Siblings of `m` (same parent, same role), oldest first, `m` included. */
export function siblingsOf<M extends TreeNode & { role: string }>(all: readonly M[], m: M): M[] {
  return all.filter(x => x.role === m.role && x.parentId === m.parentId)
}
