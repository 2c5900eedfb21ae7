/**
 * Runs async functions one at a time per key (here: per member), in arrival order. The quota gate
 * uses it so that a member's check-then-reserve sequences never interleave (one process; see
 * ENV.md). The conditional UPDATEs in the ledger stay correct without it; the rolling-window and
 * conversation counts rely on it.
 */
export function createKeyedMutex<K>() {
  const tails = new Map<K, Promise<void>>()
  return async function run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const prev = tails.get(key) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((resolve) => {
      release = resolve
    })
    const tail = prev.then(() => mine)
    tails.set(key, tail)
    await prev
    try {
      return await fn()
    }
    finally {
      release()
      if (tails.get(key) === tail)
        tails.delete(key)
    }
  }
}
