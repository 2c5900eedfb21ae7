import { describe, expect, it } from 'vitest'
import { redact, safeExcerpt } from './redact.js'
import { readSse } from './sse.js'
import { shortTitle } from './title.js'

describe('redact', () => {
  it('removes bearer tokens, JWTs, API keys, e-mail addresses and the known secrets', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0In0.sig_nature-part'
    const text = `Invalid token Bearer abc.def-123 and ${jwt} for alice.smith+cws@mail.example.org, key sk-proj-AbC123xyz789 and rk-live-0123456789, custom SECRET-XYZ-42, url ?access_token=qwertyuiop&x=1`
    const out = redact(text, ['SECRET-XYZ-42'])
    for (const leaked of ['abc.def-123', 'eyJhbGci', 'sig_nature', 'alice.smith', 'mail.example.org', 'sk-proj', 'AbC123xyz789', 'rk-live', 'SECRET-XYZ-42', 'qwertyuiop'])
      expect(out).not.toContain(leaked)
    expect(out).toContain('Invalid token Bearer [redacted]')
    expect(out).toContain('[redacted-email]')
    expect(out).toContain('x=1')
  })

  it('keeps ordinary text', () => {
    expect(redact('The server is overloaded, try again in 20 seconds.')).toBe('The server is overloaded, try again in 20 seconds.')
  })
})

describe('safeExcerpt', () => {
  it('picks the JSON detail or error message, or the HTML title, redacted and on one line', () => {
    expect(safeExcerpt('{"detail":"Token expired for bob@example.com"}')).toBe('Token expired for [redacted-email]')
    expect(safeExcerpt('{"error":{"message":"Incorrect API key provided: sk-abcdefghijkl1234","type":"x"}}')).toBe('Incorrect API key provided: [redacted-key]')
    expect(safeExcerpt('{"detail":{"message":"Too many","clears_in":3}}')).toBe('Too many')
    expect(safeExcerpt('<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>cf</body></html>')).toBe('Just a moment...')
    expect(safeExcerpt('line one\n\n  line two')).toBe('line one line two')
  })

  it('truncates after redacting, so no half secret survives the cut', () => {
    const body = `${'x'.repeat(150)} Bearer verylongtokenvalue1234567890`
    const out = safeExcerpt(body, [], 160)
    expect([...out].length).toBeLessThanOrEqual(161)
    expect(out).not.toContain('verylong')
  })
})

describe('readSse', () => {
  it('keeps characters split across chunks whole and accepts CR, LF and CRLF', async () => {
    const bytes = Buffer.from('event: delta\r\ndata: {"v":"多😀"}\r\n\r\ndata: a\rdata: b\r\rdata: [DONE]\n\n', 'utf8')
    const chunks = [...bytes].map(b => Uint8Array.of(b)) // one byte per read
    const got = []
    for await (const e of readSse(chunks))
      got.push([e.event, e.data])
    expect(got).toEqual([['delta', '{"v":"多😀"}'], [undefined, 'a\nb'], [undefined, '[DONE]']])
  })
})

describe('shortTitle', () => {
  it('takes the first words of the question, without Markdown', () => {
    expect(shortTitle('## How do I *really* reverse a linked list in Rust without unsafe?')).toBe('How do I really reverse a')
    expect(shortTitle('   ')).toBe('New chat')
    expect(shortTitle('帮我写一首关于秋天的诗')).toBe('帮我写一首关于秋天的诗')
    // At most 48 characters (emoji count as one), whole words; one overlong word is cut.
    expect(shortTitle(`😀😀 ${'word '.repeat(3)}${'x'.repeat(40)}`)).toBe('😀😀 word word word')
    expect(shortTitle('y'.repeat(60))).toBe(`Y${'y'.repeat(47)}`)
    expect(shortTitle(`${'a '.repeat(20000)}`)).toBe('A a a a a a')
  })
})
