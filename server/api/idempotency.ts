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

interface Row {
  method: string;
  path: string;
  body_hash: string;
  state: "running" | "done";
  status: number | null;
  content_type: string | null;
  response: string | null;
}

export function idempotency(db: Db, options: IdempotencyOptions = {}): RequestHandler {
  const ttlMs = options.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  const now = options.now ?? Date.now;
  // created_at is written as strftime('%Y-%m-%dT%H:%M:%fZ'), the format of toISOString: comparable as text.
  const expire = db.prepare<[string]>("DELETE FROM idempotency WHERE created_at < ?");
  const find = db.prepare<[string, string], Row>("SELECT * FROM idempotency WHERE scope = ? AND key = ?");
  const claim = db.prepare(
    "INSERT INTO idempotency (scope, key, method, path, body_hash, state) VALUES (?, ?, ?, ?, ?, 'running') ON CONFLICT DO NOTHING",
  );
  const finish = db.prepare(
    "UPDATE idempotency SET state = 'done', status = ?, content_type = ?, response = ? WHERE scope = ? AND key = ?",
  );
  const release = db.prepare("DELETE FROM idempotency WHERE scope = ? AND key = ? AND state = 'running'");

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
    expire.run(new Date(now() - ttlMs).toISOString());
    const claimed = claim.run(scope, key, req.method, path, bodyHash).changes === 1;
    if (!claimed) {
      const row = find.get(scope, key)!;
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
      if (res.statusCode >= 500) release.run(scope, key);
      else if (/\bno-store\b/.test(String(res.get("cache-control") ?? ""))) {
        finish.run(res.statusCode, String(res.get("content-type") ?? "application/json"), null, scope, key);
      } else {
        const text =
          typeof body === "string" ? body : Buffer.isBuffer(body) ? body.toString("utf8") : JSON.stringify(body);
        finish.run(res.statusCode, String(res.get("content-type") ?? "application/json"), text, scope, key);
      }
      return send(body);
    };
    res.on("close", () => {
      if (!res.writableFinished) release.run(scope, key);
    });
    next();
  };
}
