// Shared API types. The frontend imports these type-only through `@cws/backend/contracts`.
export * from './auth.js'
export * from './chat.js'
export * from './common.js'
export * from './conversations.js'
export * from './limits.js'
export * from './logs.js'
export * from './stats.js'
export * from './users.js'
