import type { RouteOptions } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Refuses to start when an /api route lacks a schema: every route declares its response statuses
 * (the allow-list that keeps hashes and upstream credentials out of JSON), and every route that takes
 * params, a query or a body validates them. A missing schema is a developer's mistake, caught at boot.
 */
export function routeSchemaProblems(route: Pick<RouteOptions, 'method' | 'url' | 'schema'>): string[] {
  const url = route.url
  if (!(url === '/api' || url.startsWith('/api/')))
    return []
  const methods = ([] as string[]).concat(route.method)
  if (methods.every(m => m === 'HEAD' || m === 'OPTIONS'))
    return []
  const where = `${methods.join(',')} ${url}`
  const problems: string[] = []
  const schema = route.schema ?? {}
  const response = schema.response as Record<string, unknown> | undefined
  if (!response || !Object.keys(response).some(s => /^2\d\d$|^2xx$/.test(s)))
    problems.push(`${where}: no response schema for its success status`)
  if (url.includes('/:') && !schema.params)
    problems.push(`${where}: has path parameters but no params schema`)
  if (methods.some(m => m === 'POST' || m === 'PUT' || m === 'PATCH') && !schema.body && !url.endsWith('/stop') && !url.includes('logout'))
    problems.push(`${where}: takes a body but declares no body schema`)
  return problems
}

export default fp(async (app) => {
  app.addHook('onRoute', (route) => {
    const problems = routeSchemaProblems(route)
    if (problems.length)
      throw new Error(`route schema policy: ${problems.join('; ')}`)
  })
}, { name: 'route-policy' })
