/**
 * Browser sessions, kept server-side in SQLite: the one session mechanism of every cookie-based page
 * (the audit pages now, the workspace next). No Express here: services call it too (a revoked member
 * card ends that member's sessions).
 *
 * - The browser holds a random 32-byte id (base64url). Only its SHA-256 is stored, so a copy of the
 *   database does not let anyone sign in.
 * - A session ends at `expires_at` (sign-in + ttl, whatever happens), after `idle` without a request,
 *   or when revoked (sign-out, or every session of a user at once). Revoking deletes the row: nothing
 *   of a revoked session is kept, and a revoked id can never be found again.
 * - Each session has its own CSRF token (synchronizer token) that every form carries; it is random,
 *   not derived from the id, and worthless without the session cookie, so it is stored as is.
 * - Times are epoch milliseconds (integers compare and index cheaply).
 *
 * The store is only SQL over the database: every instance over the same file sees the same sessions.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Db, Migrations } from "../store/db";

export const sessionMigrations: Migrations = {
  module: "sessions",
  steps: [
    `CREATE TABLE sessions (
       id_hash      BLOB PRIMARY KEY,
       user_id      TEXT NOT NULL REFERENCES users (id),
       csrf_token   TEXT NOT NULL,
       created_at   INTEGER NOT NULL,
       last_seen_at INTEGER NOT NULL,
       expires_at   INTEGER NOT NULL
     ) STRICT;
     CREATE INDEX sessions_by_user ON sessions (user_id);
     CREATE INDEX sessions_by_expiry ON sessions (expires_at);
     CREATE INDEX sessions_by_last_seen ON sessions (last_seen_at);`,
  ],
};

/** 32 random bytes in base64url without padding. */
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** Expired rows removed per sign-in: bounded work, and sign-ins outpace the rows that expire. */
const PURGE_BATCH = 200;

export interface Session {
  userId: string;
  /** The synchronizer token every form of this session carries. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  /** The absolute end; the idle timeout may end it sooner. */
  expiresAt: number;
}

export interface SessionStore {
  /** Opens a session for the user; `id` goes to the browser and is never shown again. */
  create(userId: string): { id: string; session: Session };
  /**
   * The live session behind a browser's id, its idle clock restarted; null when the id is malformed,
   * unknown, revoked, past its absolute expiry or idle too long (the latter two are deleted here).
   */
  touch(id: string): Session | null;
  /** Ends one session (sign-out). True when there was one. */
  revoke(id: string): boolean;
  /** Ends every session of the user (a revoked card or token); returns how many. */
  revokeAllForUser(userId: string): number;
  /** Deletes up to `limit` sessions past their absolute expiry or idle timeout; returns how many. */
  purgeExpired(limit?: number): number;
}

export interface SessionStoreOptions {
  db: Db;
  /** Absolute lifetime from sign-in. */
  ttlMs: number;
  /** Lifetime without a request. */
  idleMs: number;
  /** The clock (tests move it). */
  now?: () => number;
}

export function hashSessionId(id: string): Buffer {
  return createHash("sha256").update(id, "utf8").digest();
}

/** Constant-time comparison of a submitted CSRF token with the session's; false for anything not a string. */
export function csrfMatches(session: Pick<Session, "csrfToken">, submitted: unknown): boolean {
  if (typeof submitted !== "string") return false;
  // Hashing first gives equal lengths, so timingSafeEqual does not reveal the expected length either.
  const a = createHash("sha256").update(submitted, "utf8").digest();
  const b = createHash("sha256").update(session.csrfToken, "utf8").digest();
  return timingSafeEqual(a, b);
}

interface Row {
  user_id: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

export function createSessionStore(options: SessionStoreOptions): SessionStore {
  const { db, ttlMs, idleMs } = options;
  const now = options.now ?? Date.now;
  // last_seen_at is written at most this often per session, not on every page view: the idle
  // timeout is then honoured to within this much, a small part of it.
  const touchEvery = Math.min(30_000, Math.floor(idleMs / 10));

  const insert = db.prepare(
    "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const select = db.prepare<[Buffer], Row>(
    "SELECT user_id, csrf_token, created_at, last_seen_at, expires_at FROM sessions WHERE id_hash = ?",
  );
  const seen = db.prepare("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?");
  const remove = db.prepare("DELETE FROM sessions WHERE id_hash = ?");
  const removeUser = db.prepare("DELETE FROM sessions WHERE user_id = ?");
  // Both conditions are indexed; the sub-select bounds the work (SQLite's DELETE has no LIMIT by default).
  const purge = db.prepare(
    `DELETE FROM sessions WHERE id_hash IN (
       SELECT id_hash FROM sessions WHERE expires_at <= @now
       UNION SELECT id_hash FROM sessions WHERE last_seen_at <= @idleBefore
       LIMIT @limit)`,
  );

  const toSession = (r: Row): Session => ({
    userId: r.user_id,
    csrfToken: r.csrf_token,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
  });

  const purgeExpired = (limit = PURGE_BATCH): number => {
    const t = now();
    return purge.run({ now: t, idleBefore: t - idleMs, limit }).changes;
  };

  return {
    create(userId) {
      purgeExpired();
      const id = randomBytes(32).toString("base64url");
      const t = now();
      const session: Session = {
        userId,
        csrfToken: randomBytes(32).toString("base64url"),
        createdAt: t,
        lastSeenAt: t,
        expiresAt: t + ttlMs,
      };
      insert.run(hashSessionId(id), userId, session.csrfToken, t, t, session.expiresAt);
      return { id, session };
    },

    touch(id) {
      if (typeof id !== "string" || !ID_SHAPE.test(id)) return null;
      const key = hashSessionId(id);
      const row = select.get(key);
      if (row === undefined) return null;
      const t = now();
      if (t >= row.expires_at || t - row.last_seen_at >= idleMs) {
        remove.run(key);
        return null;
      }
      if (t - row.last_seen_at >= touchEvery) {
        seen.run(t, key);
        row.last_seen_at = t;
      }
      return toSession(row);
    },

    revoke(id) {
      if (typeof id !== "string" || !ID_SHAPE.test(id)) return false;
      return remove.run(hashSessionId(id)).changes > 0;
    },

    revokeAllForUser(userId) {
      return removeUser.run(userId).changes;
    },

    purgeExpired,
  };
}
