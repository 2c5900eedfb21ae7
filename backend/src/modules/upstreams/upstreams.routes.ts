import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AccountParams as AccountParamsT, AccountTest as AccountTestT } from '../../contracts/upstreams.js'
import { Type as T } from '@sinclair/typebox'
import { errors } from '../../contracts/common.js'
import { AccountList, AccountParams, AccountTest, AlertList } from '../../contracts/upstreams.js'
import { AppError } from '../../lib/errors.js'
import { ProviderError } from '../providers/types.js'
import { accountStatus } from './status.js'

const TEST_TIMEOUT_MS = 15_000

/** The admin's view of the accounts: state, expiry, caps, alerts, and a test call. Register in the admin scope. */
const upstreamsAdminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const warnDays = (): number => Math.max(0, ...app.config.alerts.expiry_warning_days)
  const status = (pool: ReturnType<typeof app.upstreams.pools>[number], a: (typeof pool.accounts)[number]) => accountStatus(pool, a, app.now().getTime(), warnDays())

  app.get('/api/admin/upstreams/accounts', {
    schema: { description: 'Every account of every upstream: state, token expiry, caps; never a credential.', response: { 200: AccountList, ...errors(401, 403) } },
  }, async () => ({ items: app.upstreams.pools().flatMap(p => p.accounts.map(a => status(p, a))) }))

  app.get('/api/admin/upstreams/alerts', {
    schema: { description: 'The latest changes of accounts\' states, newest first.', response: { 200: AlertList, ...errors(401, 403) } },
  }, async () => ({ items: app.upstreamAlerts.list() }))

  app.post('/api/admin/upstreams/:upstreamId/accounts/:accountId/test', {
    schema: {
      description: 'A cheap real call with the account\'s credential (the account check or the model list): reachability, plan, token expiry.',
      params: AccountParams,
      body: T.Object({}, { additionalProperties: false }),
      response: { 200: AccountTest, ...errors(400, 401, 403, 404) },
    },
  }, async (req): Promise<AccountTestT> => {
    const { upstreamId, accountId } = req.params as AccountParamsT
    const pool = app.upstreams.pool(upstreamId)
    const account = pool?.account(accountId)
    if (!pool || !account)
      throw new AppError('NOT_FOUND', 'No such account.')
    const t0 = Date.now()
    let plan: string | null = null
    let message: string | null = null
    try {
      await account.keeper?.ready()
      plan = (await account.provider.check?.(AbortSignal.timeout(TEST_TIMEOUT_MS)))?.plan ?? null
      // A success: the account is healthy again (the provider's client marked it).
    }
    catch (err) {
      message = err instanceof ProviderError ? err.message : 'The test call failed.'
    }
    app.upstreamAlerts.check()
    return { ok: message === null, message, plan, latencyMs: Date.now() - t0, account: status(pool, account) }
  })
}

export default upstreamsAdminRoutes
