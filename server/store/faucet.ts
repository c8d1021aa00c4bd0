/**
 * The embedded chain's faucet pays a buyer once per UTC day. Grants are recorded in SQLite
 * (`faucet_grants`) before anything is sent, so concurrent requests and restarts cannot make it pay
 * twice. Here, below the HTTP layer, so that the user service (which decides) can use it.
 */
import type { Db, Migrations } from "./db";
import { secondsUntilNextUtcDay, utcDayStart } from "../relayer";

export const faucetMigrations: Migrations = {
  module: "faucet",
  steps: [
    `CREATE TABLE faucet_grants (
       user_id     TEXT    NOT NULL,
       day         INTEGER NOT NULL,   -- ms at 00:00 UTC of the day of the grant
       granted_at  INTEGER NOT NULL,   -- ms
       PRIMARY KEY (user_id, day)
     )`,
  ],
};

export type FaucetGrant = { granted: true; day: number } | { granted: false; retryAfterSeconds: number };

export interface FaucetGrants {
  /** Takes today's grant of `userId`, or says when the next one may be taken. */
  take(userId: string, now?: number): FaucetGrant;
  /** Gives a grant back when nothing was paid (the transfer failed), so the buyer may try again. */
  giveBack(userId: string, day: number): void;
}

/** One faucet grant per user and UTC day, durable. */
export function createFaucetGrants(db: Db): FaucetGrants {
  const insert = db.prepare(
    "INSERT INTO faucet_grants (user_id, day, granted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
  );
  const remove = db.prepare("DELETE FROM faucet_grants WHERE user_id = ? AND day = ?");
  return {
    take(userId, now = Date.now()) {
      const day = utcDayStart(now);
      // The primary key decides: of two concurrent requests only one inserts.
      if (insert.run(userId, day, now).changes === 1) return { granted: true, day };
      return { granted: false, retryAfterSeconds: secondsUntilNextUtcDay(now) };
    },
    giveBack(userId, day) {
      remove.run(userId, day);
    },
  };
}
