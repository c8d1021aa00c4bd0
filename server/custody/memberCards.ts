/**
 * Member cards: how a member signs in without a token, the way a bank card works. The printed card
 * carries a QR code of `/c/<cardId>`; the member types a short PIN chosen with her manager when the
 * card was printed.
 *
 * - The card id (16 random bytes, base64url) is a name, not a secret: it is printed, it may be
 *   photographed or logged. What protects the account is the PIN together with the attempt limit.
 * - The PIN is stored as scrypt(pin, salt) with its cost parameters, never in clear. A 4–6 digit PIN
 *   cannot resist an offline search of a stolen database for long; the hash only keeps it from being
 *   read at a glance. The real protection is online: after MAX_PIN_ATTEMPTS wrong PINs in a row the
 *   card locks until the manager prints a new one (and the per-address limit of the pages slows any
 *   one client).
 * - Each attempt takes its slot (the failure counter goes up) BEFORE the PIN is compared, in one SQL
 *   statement: parallel requests cannot compare more PINs than the limit allows. A right PIN gives
 *   the slot back (counter reset).
 * - A member has one card that works at a time: issuing a card revokes the earlier ones.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from "node:crypto";
import type { Db, Migrations } from "../store/db";
import type { Logger } from "../log";

export const MAX_PIN_ATTEMPTS = 5;

/** 16 random bytes in base64url without padding. */
const CARD_ID_SHAPE = /^[A-Za-z0-9_-]{22}$/;

/**
 * scrypt's cost: N = 2^14, r = 8 (16 MiB, ~50 ms on one core here). Stored with each hash, so a later
 * raise applies to new cards while old ones still verify.
 */
const SCRYPT = { N: 16_384, r: 8, p: 1, keyLength: 32 };

export const memberCardMigrations: Migrations = {
  module: "member_cards",
  steps: [
    `CREATE TABLE member_cards (
       card_id         TEXT PRIMARY KEY,
       user_id         TEXT NOT NULL REFERENCES users (id),
       pin_hash        BLOB NOT NULL,
       pin_salt        BLOB NOT NULL,
       pin_params      TEXT NOT NULL,
       failed_attempts INTEGER NOT NULL DEFAULT 0,
       locked          INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
       revoked_at      TEXT,
       created_at      TEXT NOT NULL
     ) STRICT;
     CREATE INDEX member_cards_by_user ON member_cards (user_id);`,
  ],
};

export interface MemberCard {
  cardId: string;
  userId: string;
  failedAttempts: number;
  locked: boolean;
  revokedAt: string | null;
  createdAt: string;
}

/** The result of a PIN typed on a card's page. */
export type CardCheck =
  | { ok: true; userId: string }
  | { ok: false; reason: "unknown" | "revoked" | "locked" }
  /** `triesLeft` 0 means this attempt locked the card. */
  | { ok: false; reason: "wrong_pin"; triesLeft: number };

export interface MemberCardStore {
  /** A new card for `userId` with this PIN; the member's earlier cards stop working. */
  issue(userId: string, pin: string): Promise<{ card: MemberCard; replaced: number }>;
  /** Checks a PIN against a card, counting the attempt (see the file comment). */
  verify(cardId: string, pin: string): Promise<CardCheck>;
  get(cardId: string): MemberCard | undefined;
  /** The card of `userId` that works now (not revoked; possibly locked), if any. */
  currentOf(userId: string): MemberCard | undefined;
  /** Revokes every card of `userId` not revoked yet (a lost card); returns how many. */
  revokeAllOf(userId: string): number;
}

interface Row {
  card_id: string;
  user_id: string;
  pin_hash: Buffer;
  pin_salt: Buffer;
  pin_params: string;
  failed_attempts: number;
  locked: number;
  revoked_at: string | null;
  created_at: string;
}

function toCard(r: Row): MemberCard {
  return {
    cardId: r.card_id,
    userId: r.user_id,
    failedAttempts: r.failed_attempts,
    locked: r.locked === 1,
    revokedAt: r.revoked_at,
    createdAt: r.created_at,
  };
}

function scrypt(pin: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(pin, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function encodeParams(p: typeof SCRYPT): string {
  return `N=${p.N},r=${p.r},p=${p.p},len=${p.keyLength}`;
}

function decodeParams(text: string): typeof SCRYPT {
  const v = Object.fromEntries(text.split(",").map((kv) => kv.split("=") as [string, string]));
  return { N: Number(v.N), r: Number(v.r), p: Number(v.p), keyLength: Number(v.len) };
}

async function hashPin(pin: string, salt: Buffer, params: typeof SCRYPT): Promise<Buffer> {
  // maxmem above 128·N·r, which Node's 32 MiB default only just covers for N = 2^14.
  return scrypt(pin, salt, params.keyLength, {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * params.N * params.r,
  });
}

export function createMemberCardStore(deps: { db: Db; log: Logger }): MemberCardStore {
  const { db } = deps;
  const log = deps.log.child({ module: "member_cards" });
  const q = {
    insert: db.prepare(
      `INSERT INTO member_cards (card_id, user_id, pin_hash, pin_salt, pin_params, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    byId: db.prepare<[string], Row>("SELECT * FROM member_cards WHERE card_id = ?"),
    current: db.prepare<[string], Row>(
      "SELECT * FROM member_cards WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC, rowid DESC LIMIT 1",
    ),
    revokeUser: db.prepare("UPDATE member_cards SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"),
    // Takes an attempt's slot: only on a card that works, and locks it when this is the last slot.
    take: db.prepare<[number, string], { failed_attempts: number }>(
      `UPDATE member_cards
       SET failed_attempts = failed_attempts + 1, locked = (failed_attempts + 1 >= ?)
       WHERE card_id = ? AND revoked_at IS NULL AND locked = 0
       RETURNING failed_attempts`,
    ),
    // A right PIN gives the slot back, and undoes the lock its own slot may have set.
    reset: db.prepare(
      "UPDATE member_cards SET failed_attempts = 0, locked = 0 WHERE card_id = ? AND revoked_at IS NULL",
    ),
  };

  return {
    async issue(userId, pin) {
      const cardId = randomBytes(16).toString("base64url");
      const salt = randomBytes(16);
      const hash = await hashPin(pin, salt, SCRYPT);
      const createdAt = new Date().toISOString();
      const replaced = db.transaction(() => {
        const n = q.revokeUser.run(createdAt, userId).changes;
        q.insert.run(cardId, userId, hash, salt, encodeParams(SCRYPT), createdAt);
        return n;
      })();
      log.info({ userId, replaced }, "member card issued");
      return { card: toCard(q.byId.get(cardId)!), replaced };
    },

    async verify(cardId, pin) {
      if (typeof cardId !== "string" || !CARD_ID_SHAPE.test(cardId)) return { ok: false, reason: "unknown" };
      const row = q.byId.get(cardId);
      if (row === undefined) return { ok: false, reason: "unknown" };
      if (row.revoked_at !== null) return { ok: false, reason: "revoked" };
      const slot = q.take.get(MAX_PIN_ATTEMPTS, cardId);
      if (slot === undefined) return { ok: false, reason: "locked" };
      const expected = row.pin_hash;
      const typed = await hashPin(typeof pin === "string" ? pin : "", row.pin_salt, decodeParams(row.pin_params));
      if (typed.length === expected.length && timingSafeEqual(typed, expected)) {
        // Revoked while the hash was computed (a lost card reported this very second): refused.
        if (q.reset.run(cardId).changes === 0) return { ok: false, reason: "revoked" };
        return { ok: true, userId: row.user_id };
      }
      const triesLeft = Math.max(0, MAX_PIN_ATTEMPTS - slot.failed_attempts);
      // Never the PIN: the card and how many tries are left.
      log.warn({ cardId, userId: row.user_id, triesLeft }, triesLeft === 0 ? "member card locked" : "wrong PIN");
      return { ok: false, reason: "wrong_pin", triesLeft };
    },

    get(cardId) {
      if (typeof cardId !== "string" || !CARD_ID_SHAPE.test(cardId)) return undefined;
      const row = q.byId.get(cardId);
      return row === undefined ? undefined : toCard(row);
    },

    currentOf(userId) {
      const row = q.current.get(userId);
      return row === undefined ? undefined : toCard(row);
    },

    revokeAllOf(userId) {
      const n = q.revokeUser.run(new Date().toISOString(), userId).changes;
      if (n > 0) log.info({ userId, revoked: n }, "member cards revoked");
      return n;
    },
  };
}
