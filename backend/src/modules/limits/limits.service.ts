import type { Limits, LimitsPatch, ModelStatus, MyLimits, RateWindow, TimeSlot, UnavailableReason } from '../../contracts/limits.js'
import type { Db } from '../../db/client.js'
import type { ModelQuota, UserLimits } from '../../generated/prisma/client.js'
import type { ModelEntry } from '../upstreams/upstreams.service.js'
import type { AskLimits } from './limits.logic.js'
import type { LimitsRepository } from './limits.repository.js'
import { AppError } from '../../lib/errors.js'
import { checkPerModel, evalWindows, inAnySlot, LimitsValidationError, validateLimitsPatch } from './limits.logic.js'
import { createLimitsRepository, DEFAULTS_SETTING_KEY } from './limits.repository.js'

/** Built-in defaults for new members: every model, unlimited counts, one ask at a time, any time. */
export const BUILTIN_DEFAULTS: Limits = {
  enabled: true,
  validUntil: null,
  allowedModels: null,
  maxConversations: -1,
  totalAsks: -1,
  modelAsks: {},
  maxInFlight: 1,
  rateWindows: [],
  timeSlots: [],
  shareWeight: 1,
}

/** What an admin gets when their limits are first created: unlimited, a few asks at once. */
export const ADMIN_LIMITS: Limits = { ...BUILTIN_DEFAULTS, maxInFlight: 4 }

export interface LimitsServiceDeps {
  db: Db
  now: () => Date
  /** IANA time zone daily slots are read in. */
  timezone: string
  /** The configured models (hot-reloadable). */
  models: () => ModelEntry[]
  repo?: LimitsRepository
}

/** A member's limits as loaded for checks, with the stamps reservations need. */
export interface LoadedLimits {
  userId: number
  role: string
  userEnabled: boolean
  row: UserLimits
  quotas: ModelQuota[]
  defaults: Limits
}

export function rowToLimits(row: UserLimits, quotas: ModelQuota[]): Limits {
  return {
    enabled: row.enabled,
    validUntil: row.validUntil ? row.validUntil.toISOString() : null,
    allowedModels: row.allowedModels ? JSON.parse(row.allowedModels) as string[] : null,
    maxConversations: row.maxConversations,
    totalAsks: row.totalAsks,
    modelAsks: Object.fromEntries(quotas.map(q => [q.model, q.remaining])),
    maxInFlight: row.maxInFlight,
    rateWindows: JSON.parse(row.rateWindows) as RateWindow[],
    timeSlots: JSON.parse(row.timeSlots) as TimeSlot[],
    shareWeight: row.shareWeight,
  }
}

/** Remaining asks of a model the member has no own count for: the default (admins: unlimited). */
export function defaultModelAsks(role: string, defaults: Limits, model: string): number {
  return role === 'admin' ? -1 : defaults.modelAsks[model] ?? -1
}

/** The defaults for new members from the stored setting (absent or unreadable: the built-in ones). */
export function defaultsFromSetting(stored: unknown): Limits {
  if (!stored || typeof stored !== 'object')
    return { ...BUILTIN_DEFAULTS }
  return mergeLimits(BUILTIN_DEFAULTS, stored as LimitsPatch)
}

function mergeLimits(base: Limits, p: LimitsPatch): Limits {
  const modelAsks = { ...base.modelAsks }
  for (const [k, v] of Object.entries(p.modelAsks ?? {})) {
    if (v === null)
      delete modelAsks[k]
    else modelAsks[k] = v
  }
  return {
    enabled: p.enabled ?? base.enabled,
    validUntil: p.validUntil !== undefined ? p.validUntil : base.validUntil,
    allowedModels: p.allowedModels !== undefined ? p.allowedModels : base.allowedModels,
    maxConversations: p.maxConversations ?? base.maxConversations,
    totalAsks: p.totalAsks ?? base.totalAsks,
    modelAsks,
    maxInFlight: p.maxInFlight ?? base.maxInFlight,
    rateWindows: p.rateWindows ?? base.rateWindows,
    timeSlots: p.timeSlots ?? base.timeSlots,
    shareWeight: p.shareWeight ?? base.shareWeight,
  }
}

export function createLimitsService(deps: LimitsServiceDeps) {
  const { db, now, timezone } = deps
  const repo = deps.repo ?? createLimitsRepository(db)

  const knownModels = (): Set<string> => new Set(deps.models().map(m => m.key))

  const validate = (p: LimitsPatch, field: string): void => {
    try {
      validateLimitsPatch(p, knownModels(), field)
    }
    catch (err) {
      if (err instanceof LimitsValidationError)
        throw new AppError('VALIDATION_FAILED', err.message)
      throw err
    }
  }

  async function getDefaults(): Promise<Limits> {
    return defaultsFromSetting(await repo.readSetting(DEFAULTS_SETTING_KEY))
  }

  /**
   * Creates a member's limits from the defaults for new members (an admin: unlimited) unless they
   * exist. Called when a user is created; a user without limits gets them on first use, too.
   */
  async function initForUser(userId: number, role: string): Promise<void> {
    const template = role === 'admin' ? ADMIN_LIMITS : await getDefaults()
    await repo.createIfMissing(userId, template, now())
  }

  /** Loads (creating if missing) a member's limits; NOT_FOUND for an unknown user. */
  async function load(userId: number): Promise<LoadedLimits> {
    let user = await repo.findUser(userId)
    if (!user)
      throw new AppError('NOT_FOUND', 'No such user.')
    if (!user.limits) {
      await initForUser(userId, user.role)
      user = await repo.findUser(userId)
      if (!user?.limits)
        throw new AppError('NOT_FOUND', 'No such user.')
    }
    const [quotas, defaults] = await Promise.all([repo.modelQuotas(userId), getDefaults()])
    return { userId, role: user.role, userEnabled: user.enabled, row: user.limits, quotas, defaults }
  }

  function modelAsksOf(l: LoadedLimits, model: string): number {
    return l.quotas.find(q => q.model === model)?.remaining ?? defaultModelAsks(l.role, l.defaults, model)
  }

  function askLimits(l: LoadedLimits, model: string): AskLimits {
    const limits = rowToLimits(l.row, l.quotas)
    return {
      userEnabled: l.userEnabled,
      limits: { ...limits, validUntil: l.row.validUntil },
      modelAsks: modelAsksOf(l, model),
    }
  }

  async function get(userId: number): Promise<Limits> {
    const l = await load(userId)
    return rowToLimits(l.row, l.quotas)
  }

  async function applyPatch(userId: number, p: LimitsPatch): Promise<void> {
    const t = now()
    await repo.updateColumns(userId, {
      enabled: p.enabled,
      validUntil: p.validUntil === undefined ? undefined : p.validUntil === null ? null : new Date(p.validUntil),
      allowedModels: p.allowedModels,
      maxConversations: p.maxConversations,
      totalAsks: p.totalAsks,
      maxInFlight: p.maxInFlight,
      rateWindows: p.rateWindows,
      timeSlots: p.timeSlots,
      shareWeight: p.shareWeight,
    }, t)
    for (const [model, v] of Object.entries(p.modelAsks ?? {}))
      await repo.setModelAsks(userId, model, v)
  }

  /** Partial update: only the fields given are written (column by column). */
  async function patch(userId: number, p: LimitsPatch): Promise<Limits> {
    validate(p, 'body')
    await load(userId)
    await applyPatch(userId, p)
    return get(userId)
  }

  /** Applies one partial template to several members; nothing is written if any id is unknown. */
  async function apply(userIds: number[], p: LimitsPatch): Promise<number[]> {
    validate(p, 'body.limits')
    const ids = [...new Set(userIds)]
    const found = new Set(await repo.existingUserIds(ids))
    const missing = ids.filter(id => !found.has(id))
    if (missing.length)
      throw new AppError('NOT_FOUND', `No such users: ${missing.join(', ')}; nothing was changed.`)
    for (const id of ids) {
      await load(id)
      await applyPatch(id, p)
    }
    return ids
  }

  /** Replaces the defaults for new members (fields not given take the built-in defaults). */
  async function putDefaults(p: LimitsPatch): Promise<Limits> {
    validate(p, 'body')
    const next = mergeLimits(BUILTIN_DEFAULTS, p)
    await repo.writeSetting(DEFAULTS_SETTING_KEY, next)
    return next
  }

  /** Per model: what remains, window state, and whether (and why not) it can be used now. */
  async function modelStatuses(l: LoadedLimits, models: ModelEntry[]): Promise<ModelStatus[]> {
    const t = now()
    const limits = rowToLimits(l.row, l.quotas)
    const longest = limits.rateWindows.reduce((m, w) => Math.max(m, w.windowSeconds), 0)
    const asks = longest ? await repo.windowAsks(l.userId, new Date(t.getTime() - longest * 1000)) : []
    return models
      .filter(m => !limits.allowedModels || limits.allowedModels.includes(m.key))
      .map((m) => {
        const windowAsks = asks.filter(a => a.model === m.key).map(a => a.createdAt)
        const failure = checkPerModel(askLimits(l, m.key), { now: t, timezone, model: m.key, newConversation: false, conversations: 0, windowAsks })
        const windows = evalWindows(limits.rateWindows.filter(w => w.model === m.key), windowAsks, t)
        return {
          key: m.key,
          name: m.name,
          upstreamId: m.upstreamId,
          upstreamType: m.upstreamType,
          isDemo: m.demo,
          remaining: { total: limits.totalAsks, model: modelAsksOf(l, m.key) },
          windows: windows.map(w => ({ max: w.window.max, windowSeconds: w.window.windowSeconds, used: w.used, nextFreeAt: w.nextFreeAt?.toISOString() ?? null })),
          available: !failure,
          reason: (failure?.code ?? null) as UnavailableReason,
          nextAllowedAt: failure?.nextAllowedAt?.toISOString() ?? null,
        }
      })
  }

  /** `GET /api/models`: the models this member may use, with what remains of them. */
  async function modelsFor(userId: number): Promise<ModelStatus[]> {
    return modelStatuses(await load(userId), deps.models())
  }

  /** `GET /api/me` → limits: the member's limits and what remains. */
  async function mine(userId: number): Promise<MyLimits> {
    const l = await load(userId)
    const limits = rowToLimits(l.row, l.quotas)
    const [models, conversations] = await Promise.all([modelStatuses(l, deps.models()), repo.countConversations(userId)])
    return {
      enabled: l.userEnabled && limits.enabled,
      validUntil: limits.validUntil,
      allowedModels: limits.allowedModels,
      totalAsks: limits.totalAsks,
      maxInFlight: limits.maxInFlight,
      conversations: { used: conversations, max: limits.maxConversations },
      timeSlots: limits.timeSlots,
      timezone,
      inTimeSlot: inAnySlot(limits.timeSlots, now(), timezone),
      models,
    }
  }

  return { getDefaults, putDefaults, initForUser, load, get, patch, apply, askLimits, modelAsksOf, modelsFor, mine, repo }
}

export type LimitsService = ReturnType<typeof createLimitsService>
