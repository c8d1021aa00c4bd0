/**
 * `Idempotency-Key` on POST: the same key with the same body replays the stored response and has one
 * effect; the same key with another body is refused (422); a duplicate sent while the first is still
 * running gets 409. Keys are scoped to the caller (its user id, or for a request without a token its
 * address), so one caller's key never replays another's response.
 *
 * A response marked `Cache-Control: no-store` holds a secret shown once (a new token, an exported
 * key): only its status is kept, never its body, and a retry with its key answers 409
 * `idempotency_response_not_stored` instead of showing the secret again.
 *
 * The body is compared by a hash of its raw bytes (kept by the JSON parser, ./body.ts): hashing a
 * re-serialisation of the parsed value cost a recursion per nesting level. A record is forgotten
 * `ttlMs` after it was made (IDEMPOTENCY_TTL_HOURS): its key then starts a new request. Expired rows
 * are deleted when a new key is claimed, through an index on created_at, so the table holds about one
 * TTL's worth of keys and the sweep costs one index probe when nothing has expired.
 */
import { createHash } from "node:crypto";
import type { RequestHandler } from "express";
import "./body";
import type { Db, Migrations } from "../store/db";
import { ApiError } from "./problem";

export const idempotencyMigrations: Migrations = {
  module: "idempotency",
  steps: [
    `CREATE TABLE idempotency (
       scope TEXT NOT NULL,
       key TEXT NOT NULL,
       method TEXT NOT NULL,
       path TEXT NOT NULL,
       body_hash TEXT NOT NULL,
       state TEXT NOT NULL CHECK (state IN ('running', 'done')),
       status INTEGER,
       content_type TEXT,
       response TEXT,
       created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
       PRIMARY KEY (scope, key)
     )`,
    `CREATE INDEX idempotency_created_at ON idempotency (created_at)`,
  ],
};

export interface IdempotencyOptions {
  /** A record older than this is forgotten (default 24 h). */
  ttlMs?: number;
  /** The clock (ms since the epoch). */
  now?: () => number;
}

export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export interface IdempotencyRecord {
  method: string;
  path: string;
  body_hash: string;
  state: "running" | "done";
  status: number | null;
  content_type: string | null;
  response: string | null;
}

/** The records of Idempotency-Key requests (the SQL; no Express), built once by the composition root. */
export interface IdempotencyStore {
  /** Deletes the records made before `isoTime`. */
  expire(isoTime: string): void;
  /** Claims (scope, key) for a new request; false when a record exists. */
  claim(scope: string, key: string, method: string, path: string, bodyHash: string): boolean;
  find(scope: string, key: string): IdempotencyRecord | undefined;
  /** The final answer; a null response keeps only the status (a secret shown once). */
  finish(scope: string, key: string, status: number, contentType: string, response: string | null): void;
  /** Forgets a claim whose request did not finish (a 5xx, a closed connection). */
  release(scope: string, key: string): void;
}

export function createIdempotencyStore(db: Db): IdempotencyStore {
  // created_at is written as strftime('%Y-%m-%dT%H:%M:%fZ'), the format of toISOString: comparable as text.
  const expire = db.prepare<[string]>("DELETE FROM idempotency WHERE created_at < ?");
  const find = db.prepare<[string, string], IdempotencyRecord>("SELECT * FROM idempotency WHERE scope = ? AND key = ?");
  const claim = db.prepare<[string, string, string, string, string]>(
    "INSERT INTO idempotency (scope, key, method, path, body_hash, state) VALUES (?, ?, ?, ?, ?, 'running') ON CONFLICT DO NOTHING",
  );
  const finish = db.prepare<[number, string, string | null, string, string]>(
    "UPDATE idempotency SET state = 'done', status = ?, content_type = ?, response = ? WHERE scope = ? AND key = ?",
  );
  const release = db.prepare<[string, string]>(
    "DELETE FROM idempotency WHERE scope = ? AND key = ? AND state = 'running'",
  );
  return {
    expire: (isoTime) => void expire.run(isoTime),
    claim: (scope, key, method, path, bodyHash) => claim.run(scope, key, method, path, bodyHash).changes === 1,
    find: (scope, key) => find.get(scope, key),
    finish: (scope, key, status, contentType, response) => void finish.run(status, contentType, response, scope, key),
    release: (scope, key) => void release.run(scope, key),
  };
}

export function idempotency(store: IdempotencyStore, options: IdempotencyOptions = {}): RequestHandler {
  const ttlMs = options.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  const now = options.now ?? Date.now;

  return (req, res, next) => {
    if (req.method !== "POST") return next();
    const key = req.get("idempotency-key");
    if (key === undefined) return next();
    if (!/^[\x21-\x7e]{1,128}$/.test(key)) {
      return next(
        new ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 128 visible ASCII characters"),
      );
    }
    const scope = req.user?.id ?? `anonymous:${req.ip ?? req.socket.remoteAddress ?? "?"}`;
    // The bytes as sent (none when no JSON body was read): no recursion over the parsed value.
    const bodyHash = createHash("sha256")
      .update(req.rawBody ?? Buffer.alloc(0))
      .digest("hex");
    const path = req.originalUrl.split("?")[0];
    // Forget expired records first, this key's included: an expired key is a new request.
    store.expire(new Date(now() - ttlMs).toISOString());
    if (!store.claim(scope, key, req.method, path, bodyHash)) {
      const row = store.find(scope, key)!;
      if (row.body_hash !== bodyHash || row.path !== path) {
        return next(new ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used with another request"));
      }
      if (row.state === "running") {
        return next(
          new ApiError(409, "idempotency_in_progress", "a request with this Idempotency-Key is still running"),
        );
      }
      if (row.response === null) {
        return next(
          new ApiError(
            409,
            "idempotency_response_not_stored",
            "the request with this Idempotency-Key was done; its response held a secret shown once and was not kept",
          ),
        );
      }
      res.set("Idempotent-Replayed", "true");
      return res
        .status(row.status!)
        .type(row.content_type ?? "application/json")
        .send(row.response);
    }
    // Record the final answer; a 5xx is not final (the client may retry with the same key).
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      const contentType = String(res.get("content-type") ?? "application/json");
      if (res.statusCode >= 500) store.release(scope, key);
      else if (/\bno-store\b/.test(String(res.get("cache-control") ?? ""))) {
        store.finish(scope, key, res.statusCode, contentType, null);
      } else {
        const text =
          typeof body === "string" ? body : Buffer.isBuffer(body) ? body.toString("utf8") : JSON.stringify(body);
        store.finish(scope, key, res.statusCode, contentType, text);
      }
      return send(body);
    };
    res.on("close", () => {
      if (!res.writableFinished) store.release(scope, key);
    });
    next();
  };
}
