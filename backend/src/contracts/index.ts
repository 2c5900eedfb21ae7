// Shared API types. The frontend imports these type-only through `@cws/backend/contracts`.
export * from './common.js'
