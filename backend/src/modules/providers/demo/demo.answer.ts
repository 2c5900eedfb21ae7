/**
 * The canned answers of the offline demo upstream. Deterministic: the same question always gets the
 * same answer. Each answer quotes the question first (so follow-ups are visibly answered) and shows
 * every Markdown feature the chat view renders: heading, list, table, code in two languages, inline
 * and block math.
 */

const TOPICS = [
  {
    name: 'binary search',
    ts: [
      'function binarySearch(xs: number[], target: number): number {',
      '  let lo = 0',
      '  let hi = xs.length - 1',
      '  while (lo <= hi) {',
      '    const mid = (lo + hi) >>> 1',
      '    if (xs[mid] === target)',
      '      return mid',
      '    if (xs[mid]! < target)',
      '      lo = mid + 1',
      '    else hi = mid - 1',
      '  }',
      '  return -1',
      '}',
    ],
    py: [
      'def binary_search(xs: list[int], target: int) -> int:',
      '    lo, hi = 0, len(xs) - 1',
      '    while lo <= hi:',
      '        mid = (lo + hi) // 2',
      '        if xs[mid] == target:',
      '            return mid',
      '        if xs[mid] < target:',
      '            lo = mid + 1',
      '        else:',
      '            hi = mid - 1',
      '    return -1',
    ],
    inline: '$O(\\log_2 n)$',
    block: 'T(n) = T\\left(\\frac{n}{2}\\right) + O(1) \\implies T(n) = O(\\log n)',
  },
  {
    name: 'a moving average',
    ts: [
      'function movingAverage(xs: number[], k: number): number[] {',
      '  const out: number[] = []',
      '  let sum = 0',
      '  xs.forEach((x, i) => {',
      '    sum += x - (i >= k ? xs[i - k]! : 0)',
      '    if (i >= k - 1)',
      '      out.push(sum / k)',
      '  })',
      '  return out',
      '}',
    ],
    py: [
      'def moving_average(xs: list[float], k: int) -> list[float]:',
      '    out, total = [], 0.0',
      '    for i, x in enumerate(xs):',
      '        total += x - (xs[i - k] if i >= k else 0)',
      '        if i >= k - 1:',
      '            out.append(total / k)',
      '    return out',
    ],
    inline: '$O(n)$',
    block: '\\bar{x}_t = \\frac{1}{k} \\sum_{i=0}^{k-1} x_{t-i}',
  },
  {
    name: 'counting words',
    ts: [
      'function countWords(text: string): Map<string, number> {',
      '  const counts = new Map<string, number>()',
      '  for (const w of text.toLowerCase().match(/\\p{L}+/gu) ?? [])',
      '    counts.set(w, (counts.get(w) ?? 0) + 1)',
      '  return counts',
      '}',
    ],
    py: [
      'from collections import Counter',
      'import re',
      '',
      'def count_words(text: str) -> Counter[str]:',
      '    return Counter(re.findall(r"\\w+", text.lower()))',
    ],
    inline: '$O(n)$',
    block: 'p(w) = \\frac{c(w)}{\\sum_{v \\in V} c(v)}',
  },
] as const

function hash(s: string): number {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 16777619)
  }
  return h >>> 0
}

/** The question as one quoted line, shortened. */
function quote(question: string): string {
  const flat = question.replace(/\s+/g, ' ').trim()
  const chars = [...flat]
  return chars.length > 160 ? `${chars.slice(0, 160).join('')}…` : flat
}

export function demoAnswer(question: string): string {
  const topic = TOPICS[hash(question) % TOPICS.length]!
  const words = question.split(/\s+/).filter(Boolean).length
  return [
    `> You asked: “${quote(question) || '(an empty question)'}”`,
    '',
    `*This is the offline **demo** upstream: no real model is configured, so here is a canned answer about ${topic.name}.*`,
    '',
    `## A worked example: ${topic.name}`,
    '',
    `Your question has ${words} word${words === 1 ? '' : 's'}. The usual approach runs in ${topic.inline} time; the recurrence behind it:`,
    '',
    '$$',
    topic.block,
    '$$',
    '',
    '### Steps',
    '',
    '1. Read the input once and keep only what the next step needs.',
    '2. Update the running state in constant time per element.',
    '3. Return the result — no extra passes, no hidden copies.',
    '',
    '- Works on empty input',
    '- Handles duplicates',
    '- Easy to test with small cases',
    '',
    '| Language | Lines | Notes |',
    '| --- | ---: | --- |',
    `| TypeScript | ${topic.ts.length} | typed, runs in the browser and Node |`,
    `| Python | ${topic.py.length} | concise, standard library only |`,
    '',
    '```typescript',
    ...topic.ts,
    '```',
    '',
    '```python',
    ...topic.py,
    '```',
    '',
    `As a check, $e^{i\\pi} + 1 = 0$ still holds. Ask a follow-up and the demo will quote it back.`,
  ].join('\n')
}

export function demoContinuation(): string {
  return [
    '',
    '',
    '### Continued',
    '',
    'Picking up where the answer stopped: the same idea generalises with $k$ passes, and',
    '',
    '$$',
    '\\sum_{i=1}^{k} \\frac{n}{2^i} < n',
    '$$',
    '',
    'so the total work stays linear.',
  ].join('\n')
}
