/**
 * Browser sessions and the guessing limit: the store (SQLite, no Express) and the per-address limiter
 * shared by the API and the pages. The HTTP helpers of every cookie-based page are in ./http (the
 * HTTP layer imports them from there; nothing below it may).
 */
export { sessionMigrations, createSessionStore, csrfMatches, hashSessionId } from "./store";
export type { Session, SessionStore, SessionStoreOptions } from "./store";
export { createAuthLimiter, addressKey } from "./authLimit";
export type { AuthLimiter, AuthLimiterOptions } from "./authLimit";
