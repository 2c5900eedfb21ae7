// @vitest-environment jsdom
import { describe, expect, it } from 'vitest'
import { conversationToMarkdown } from './markdown'
import { buildPdfDocument } from './pdf'
import { safeFileName } from './types'

const labels = { user: 'You', assistant: 'ChatGPT', date: 'Date', model: 'Model', exportedFrom: 'Exported from ChatGPT Web Share', untitled: 'New chat', status: { stopped: '(stopped)' } }
const conv = {
  title: 'Euler & friends',
  createdAt: '2024-05-06T07:08:09.000Z',
  model: 'Demo (offline)',
  turns: [
    { role: 'user' as const, content: 'Show me \\(e^{i\\pi}\\) and code' },
    { role: 'assistant' as const, content: 'Inline $e^{i\\pi} + 1 = 0$ and\n\n$$\n\\int_0^1 x\\,dx\n$$\n\n\\[a^2\\]\n\n```python\nprint("hi")\n```\n', status: 'done' },
    { role: 'user' as const, content: 'More' },
    { role: 'assistant' as const, content: 'Cut he', status: 'stopped' },
  ],
}

describe('markdown export', () => {
  it('has the title, date, model and every turn under a role header, text verbatim', () => {
    const md = conversationToMarkdown(conv, labels, 'en')
    expect(md.startsWith('# Euler & friends\n')).toBe(true)
    expect(md).toContain('- Date: May 6, 2024')
    expect(md).toContain('- Model: Demo (offline)')
    expect(md.match(/^## You$/gm)).toHaveLength(2)
    expect(md.match(/^## ChatGPT/gm)).toHaveLength(2)
    expect(md).toContain('## ChatGPT (stopped)')
    // math delimiters and code fences kept exactly
    expect(md).toContain('\\(e^{i\\pi}\\)')
    expect(md).toContain('$e^{i\\pi} + 1 = 0$')
    expect(md).toContain('$$\n\\int_0^1 x\\,dx\n$$')
    expect(md).toContain('\\[a^2\\]')
    expect(md).toContain('```python\nprint("hi")\n```')
    expect(md.indexOf('Show me')).toBeLessThan(md.indexOf('Inline'))
    expect(md.endsWith('Cut he\n')).toBe(true)
  })

  it('an untitled conversation gets the fallback title', () => {
    expect(conversationToMarkdown({ ...conv, title: '  ' }, labels).split('\n')[0]).toBe('# New chat')
  })

  it('file names are safe', () => {
    expect(safeFileName('a/b:c*?"<>|d', 'md')).toBe('a b c d.md')
    expect(safeFileName('   ', 'pdf')).toBe('conversation.pdf')
    expect(safeFileName('..hidden', 'md')).toBe('hidden.md')
  })
})

describe('pdf document', () => {
  it('renders answers as light-theme Markdown with math and highlighted code, questions as text', async () => {
    const el = await buildPdfDocument(conv, labels, 'en')
    expect(el.querySelector('h1')?.textContent).toBe('Euler & friends')
    expect(el.querySelectorAll('.cws-pdf-turn')).toHaveLength(4)
    const answer = el.querySelector('.cws-pdf-assistant .md-body')!
    expect(answer.classList.contains('md-light')).toBe(true)
    expect(answer.querySelectorAll('.katex').length).toBeGreaterThanOrEqual(3)
    expect(answer.querySelector('.hljs-built_in, .hljs-string')).not.toBeNull()
    // the question is shown as typed (not rendered)
    expect(el.querySelector('.cws-pdf-user-text')?.textContent).toBe('Show me \\(e^{i\\pi}\\) and code')
    expect(el.querySelector('.cws-pdf-status')?.textContent).toBe('(stopped)')
  })

  it('escapes the title', async () => {
    const el = await buildPdfDocument({ ...conv, title: '<img src=x onerror=alert(1)>' }, labels)
    expect(el.querySelector('img')).toBeNull()
  })
})
