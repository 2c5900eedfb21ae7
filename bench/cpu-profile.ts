/**
 * Summarizes a `--cpu-prof` profile of the server, optionally only inside time windows (run by hand:
 * `npx tsx bench/cpu-profile.ts <file.cpuprofile> [from-to ...]`, windows in µs of the monotonic
 * clock, as `bench/stream.ts` prints them with BENCH_CPU_PROF set).
 *
 * Prints the busy time inside the windows, then self time by package (node_modules/<name>, our
 * `src/`, node: internals, GC, native), by function, and the inclusive time of the functions that
 * carry the most.
 */
import { readFileSync } from 'node:fs'
import process from 'node:process'

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
interface Profile { nodes: ProfileNode[], startTime: number, samples: number[], timeDeltas: number[] }

const [file, ...windowArgs] = process.argv.slice(2)
if (!file) {
  console.error('usage: cpu-profile.ts <file.cpuprofile> [from-to ...]')
  process.exit(2)
}
const windows = windowArgs.map((w) => {
  const [a, b] = w.split(/[-\s]/).map(Number)
  return [a!, b!] as const
})
const inWindow = (t: number): boolean => !windows.length || windows.some(([a, b]) => t >= a && t <= b)

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map(n => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) {
  for (const c of n.children ?? []) parent.set(c, n.id)
}

function pkg(cf: CallFrame): string {
  if (!cf.url)
    return cf.functionName.startsWith('(') ? cf.functionName : `(native) ${cf.functionName}`
  const nm = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(cf.url)
  if (nm)
    return nm[1]!
  if (cf.url.startsWith('node:'))
    return cf.url
  const src = /\/(src\/.*)$/.exec(cf.url)
  return src ? src[1]! : cf.url
}
const label = (cf: CallFrame): string => `${cf.functionName || '(anonymous)'} ${pkg(cf)}:${cf.lineNumber + 1}`

const self = new Map<string, number>()
const byPkg = new Map<string, number>()
const inclusive = new Map<string, number>()
let total = 0
let idle = 0
let t = profile.startTime
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i]!
  const dt = profile.timeDeltas[i + 1] ?? 0
  if (!inWindow(t))
    continue
  const node = byId.get(profile.samples[i]!)!
  const cf = node.callFrame
  if (cf.functionName === '(idle)') {
    idle += dt
    continue
  }
  total += dt
  self.set(label(cf), (self.get(label(cf)) ?? 0) + dt)
  byPkg.set(pkg(cf), (byPkg.get(pkg(cf)) ?? 0) + dt)
  const seen = new Set<string>()
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const l = label(byId.get(id)!.callFrame)
    if (!seen.has(l)) {
      seen.add(l)
      inclusive.set(l, (inclusive.get(l) ?? 0) + dt)
    }
  }
}

const msOf = (us: number): string => `${(us / 1000).toFixed(1).padStart(8)} ms`
const pctOf = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)}%`
function top(title: string, m: Map<string, number>, n: number): void {
  console.log(`\n${title}`)
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n))
    console.log(`${msOf(v)} ${pctOf(v)}  ${k}`)
}
console.log(`busy ${msOf(total)}, idle ${msOf(idle)}${windows.length ? ` in ${windows.length} window(s)` : ''}`)
top('self time by package', byPkg, 25)
top('self time by function', self, 40)
top('inclusive time', new Map([...inclusive].filter(([k]) => !k.startsWith('(root)'))), 60)
