import type { HLJSApi, LanguageFn } from 'highlight.js'
import hljs from 'highlight.js/lib/core'
import { loadAsset, markMissing } from './assets'

/**
 * highlight.js with its "common" set of languages (the same 36 as `highlight.js/lib/common`), each
 * loaded the first time a code block needs it. Until it has loaded the block shows as plain text;
 * MarkdownContent repaints when it arrives (`assets.ts`).
 */

type Loader = () => Promise<{ default: LanguageFn }>

const LOADERS: Record<string, Loader> = {
  'bash': () => import('highlight.js/lib/languages/bash'),
  'c': () => import('highlight.js/lib/languages/c'),
  'cpp': () => import('highlight.js/lib/languages/cpp'),
  'csharp': () => import('highlight.js/lib/languages/csharp'),
  'css': () => import('highlight.js/lib/languages/css'),
  'diff': () => import('highlight.js/lib/languages/diff'),
  'go': () => import('highlight.js/lib/languages/go'),
  'graphql': () => import('highlight.js/lib/languages/graphql'),
  'ini': () => import('highlight.js/lib/languages/ini'),
  'java': () => import('highlight.js/lib/languages/java'),
  'javascript': () => import('highlight.js/lib/languages/javascript'),
  'json': () => import('highlight.js/lib/languages/json'),
  'kotlin': () => import('highlight.js/lib/languages/kotlin'),
  'less': () => import('highlight.js/lib/languages/less'),
  'lua': () => import('highlight.js/lib/languages/lua'),
  'makefile': () => import('highlight.js/lib/languages/makefile'),
  'markdown': () => import('highlight.js/lib/languages/markdown'),
  'objectivec': () => import('highlight.js/lib/languages/objectivec'),
  'perl': () => import('highlight.js/lib/languages/perl'),
  'php': () => import('highlight.js/lib/languages/php'),
  'php-template': () => import('highlight.js/lib/languages/php-template'),
  'plaintext': () => import('highlight.js/lib/languages/plaintext'),
  'python': () => import('highlight.js/lib/languages/python'),
  'python-repl': () => import('highlight.js/lib/languages/python-repl'),
  'r': () => import('highlight.js/lib/languages/r'),
  'ruby': () => import('highlight.js/lib/languages/ruby'),
  'rust': () => import('highlight.js/lib/languages/rust'),
  'scss': () => import('highlight.js/lib/languages/scss'),
  'shell': () => import('highlight.js/lib/languages/shell'),
  'sql': () => import('highlight.js/lib/languages/sql'),
  'swift': () => import('highlight.js/lib/languages/swift'),
  'typescript': () => import('highlight.js/lib/languages/typescript'),
  'vbnet': () => import('highlight.js/lib/languages/vbnet'),
  'wasm': () => import('highlight.js/lib/languages/wasm'),
  'xml': () => import('highlight.js/lib/languages/xml'),
  'yaml': () => import('highlight.js/lib/languages/yaml'),
}

/** The aliases each language registers (known before it has loaded). */
const ALIASES: Record<string, string[]> = {
  xml: ['html', 'xhtml', 'rss', 'atom', 'xjb', 'xsd', 'xsl', 'plist', 'wsf', 'svg'],
  bash: ['sh', 'zsh'],
  c: ['h'],
  cpp: ['cc', 'c++', 'h++', 'hpp', 'hh', 'hxx', 'cxx'],
  csharp: ['cs', 'c#'],
  markdown: ['md', 'mkdown', 'mkd'],
  diff: ['patch'],
  ruby: ['rb', 'gemspec', 'podspec', 'thor', 'irb'],
  go: ['golang'],
  graphql: ['gql'],
  ini: ['toml'],
  java: ['jsp'],
  javascript: ['js', 'jsx', 'mjs', 'cjs'],
  json: ['jsonc', 'json5'],
  kotlin: ['kt', 'kts', 'ktm', 'ktx'],
  lua: ['pluto'],
  makefile: ['mk', 'mak', 'make'],
  perl: ['pl', 'pm'],
  objectivec: ['mm', 'objc', 'obj-c', 'obj-c++', 'objective-c++'],
  plaintext: ['text', 'txt'],
  python: ['py', 'gyp', 'ipython'],
  rust: ['rs'],
  shell: ['console', 'shellsession'],
  yaml: ['yml'],
  typescript: ['ts', 'tsx', 'mts', 'cts'],
  vbnet: ['vb'],
}

/** Languages a language embeds (highlight.js `subLanguage`), loaded with it. */
const EMBEDS: Record<string, string[]> = {
  'xml': ['css', 'javascript'],
  'markdown': ['xml'],
  'javascript': ['css', 'graphql', 'xml'],
  'typescript': ['css', 'graphql', 'xml'],
  'php-template': ['xml', 'php'],
  'python-repl': ['python'],
  'shell': ['bash'],
  'yaml': ['ruby'],
}

const BY_ALIAS = new Map<string, string>(Object.entries(ALIASES).flatMap(([name, aliases]) => aliases.map(a => [a, name] as [string, string])))

/** The highlight.js language a fence names (`js` → javascript), or undefined when we have none. */
export function languageOf(name: string): string | undefined {
  const n = name.toLowerCase()
  return LOADERS[n] ? n : BY_ALIAS.get(n)
}

function withEmbeds(name: string, into = new Set<string>()): Set<string> {
  if (!into.has(name)) {
    into.add(name)
    for (const e of EMBEDS[name] ?? [])
      withEmbeds(e, into)
  }
  return into
}

/** Loads a language and those it embeds; resolves when all are registered. */
export function loadLanguage(name: string): Promise<void> {
  const names = [...withEmbeds(name)]
  return Promise.all(names.map(n => loadAsset(`highlight.js ${n}`, async () => {
    const mod = await LOADERS[n]!()
    ;(hljs as HLJSApi).registerLanguage(n, mod.default)
  }))).then(() => {})
}

function ready(name: string): boolean {
  return [...withEmbeds(name)].every(n => hljs.getLanguage(n) !== undefined)
}

/**
 * Highlighted HTML of `code` in highlight.js language `name`, or null when we cannot highlight it
 * (unknown language, or it is still loading: then the load is started and the render marked
 * incomplete).
 */
export function highlightAs(code: string, name: string): string | null {
  const language = languageOf(name)
  if (!language)
    return null
  if (!ready(language)) {
    markMissing()
    void loadLanguage(language)
    return null
  }
  try {
    return hljs.highlight(code, { language, ignoreIllegals: true }).value
  }
  catch {
    return null
  }
}
