/**
 * fast-check arbitraries from a route's own TypeBox (JSON Schema) body schema: bodies the schema
 * accepts, the same bodies with one thing wrong, and anything at all. Strings are kept short
 * (what is long is covered by the body limit), arrays to a few items.
 */
import fc from 'fast-check'

type Schema = Record<string, any>

const MAX_STRING = 120

function stringArb(s: Schema): fc.Arbitrary<string> {
  const minLength = s.minLength ?? 0
  const maxLength = Math.max(minLength, Math.min(s.maxLength ?? MAX_STRING, MAX_STRING))
  if (s.format === 'date-time')
    return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map(d => d.toISOString())
  if (s.format === 'uri' || s.format === 'url')
    return fc.webUrl()
  if (typeof s.pattern === 'string') {
    return fc.stringMatching(new RegExp(s.pattern)).filter(v => v.length >= minLength && v.length <= (s.maxLength ?? Infinity))
  }
  return fc.string({ minLength, maxLength, unit: 'binary' })
}

/** Values the schema accepts (as far as the keywords below go). */
export function validArb(s: Schema, depth = 0): fc.Arbitrary<unknown> {
  if (!s || typeof s !== 'object' || depth > 6)
    return fc.jsonValue({ maxDepth: 2 })
  if ('const' in s)
    return fc.constant(s.const)
  if (Array.isArray(s.enum))
    return fc.constantFrom(...s.enum)
  if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf))
    return fc.oneof(...(s.anyOf ?? s.oneOf).map((x: Schema) => validArb(x, depth + 1)))
  if (Array.isArray(s.allOf) && s.allOf.length)
    return validArb(Object.assign({}, ...s.allOf), depth + 1)
  switch (s.type) {
    case 'object': {
      if (s.patternProperties) {
        const [pattern, value] = Object.entries(s.patternProperties as Record<string, Schema>)[0]!
        return fc.dictionary(fc.stringMatching(new RegExp(pattern)).filter(k => k.length > 0 && k.length < 64 && k !== '__proto__'), validArb(value, depth + 1), { maxKeys: 4 })
      }
      const props = Object.fromEntries(Object.entries((s.properties ?? {}) as Record<string, Schema>).map(([k, v]) => [k, validArb(v, depth + 1)]))
      return fc.record(props, { requiredKeys: (s.required ?? []) as string[] })
    }
    case 'array':
      return fc.array(validArb(s.items ?? {}, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 4, 4)) })
    case 'string':
      return stringArb(s)
    case 'integer': {
      const ints = fc.integer({ min: s.minimum ?? -1_000_000, max: s.maximum ?? 1_000_000 })
      // Unbounded above: JSON Schema's "integer" includes 2^31, 2^53 and 1e308, which databases do not.
      const huge = [2 ** 31, 2 ** 53 - 1, 2 ** 63, 1e308].filter(n => n >= (s.minimum ?? -Infinity))
      return s.maximum === undefined ? fc.oneof({ weight: 9, arbitrary: ints }, { weight: 1, arbitrary: fc.constantFrom(...huge) }) : ints
    }
    case 'number':
      return fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true, noDefaultInfinity: true })
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

/** Anything JSON can say, including awkward numbers and deep nesting. */
const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(-1, 0, 1e308, -1e308, 2 ** 53 + 1, '', ' ', '\u0000', '\uD800', 'null', '[]', '{}', true, false, null),
  fc.string({ maxLength: 40, unit: 'grapheme' }),
)

/** A schema-valid body with one thing wrong: a field replaced, dropped or added, or the body replaced. */
function mutatedArb(s: Schema): fc.Arbitrary<unknown> {
  return fc.tuple(validArb(s), junk, fc.nat(), fc.constantFrom('replace', 'drop', 'extra', 'whole')).map(([body, value, n, how]) => {
    if (!body || typeof body !== 'object' || Array.isArray(body) || how === 'whole')
      return value
    const keys = Object.keys(body)
    const copy: Record<string, unknown> = { ...body }
    const key = keys.length ? keys[n % keys.length]! : 'x'
    if (how === 'replace')
      copy[key] = value
    else if (how === 'drop')
      delete copy[key]
    else copy[`extra${n % 7}`] = value
    return copy
  })
}

/** The JSON text of one generated body: mostly near-valid, some valid, some anything. */
export function bodyArb(s: Schema): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: validArb(s) },
    { weight: 5, arbitrary: mutatedArb(s) },
    { weight: 2, arbitrary: junk },
  ).map(v => JSON.stringify(v) ?? 'null')
}
