/**
 * The relayer's durable state in SQLite: the outbox of forward requests, the relayer's own
 * transactions with every signed replacement, and its nonce allocator. This is the only relayer
 * code that writes SQL. The states are states.ts's; see relayer.ts for the design.
 */
import type { Db, Migrations } from "../store/db";
import type { RequestState, TxState } from "./states";

export type { RequestState } from "./states";

export const outboxMigrations: Migrations = {
  module: "outbox",
  steps: [
    `
    CREATE TABLE relayer_txs (
      id            INTEGER PRIMARY KEY AUTOINCREMENT,
      relayer       TEXT    NOT NULL,              -- checksummed address of the paying account
      nonce         INTEGER NOT NULL,              -- relayer account nonce, shared by all replacements
      gas_limit     TEXT    NOT NULL,
      value         TEXT    NOT NULL,              -- wei, decimal
      from_block    INTEGER NOT NULL,              -- chain head when first sent: lower bound for log queries
      state         TEXT    NOT NULL CHECK (state IN ('sent', 'mined', 'dropped')),
      broadcast     INTEGER NOT NULL DEFAULT 0,    -- 1 once the node accepted the latest attempt
      mined_hash    TEXT,
      block_number  INTEGER,
      status        INTEGER,                       -- receipt status when mined
      last_sent_at  INTEGER NOT NULL,              -- ms; replacement clock
      created_at    INTEGER NOT NULL,
      updated_at    INTEGER NOT NULL
    );
    CREATE INDEX relayer_txs_open ON relayer_txs (relayer, state, nonce);

    -- Every signed version of a relayer transaction (the original and each fee-bumped replacement).
    CREATE TABLE relayer_tx_attempts (
      hash                      TEXT    PRIMARY KEY,
      tx_id                     INTEGER NOT NULL REFERENCES relayer_txs (id),
      raw                       TEXT    NOT NULL,
      max_fee_per_gas           TEXT,
      max_priority_fee_per_gas  TEXT,
      gas_price                 TEXT,
      created_at                INTEGER NOT NULL
    );
    CREATE INDEX relayer_tx_attempts_tx ON relayer_tx_attempts (tx_id);

    CREATE TABLE relayer_nonces (
      relayer     TEXT    PRIMARY KEY,
      next_nonce  INTEGER NOT NULL
    );

    CREATE TABLE outbox_requests (
      seq            INTEGER PRIMARY KEY AUTOINCREMENT,  -- queue order
      id             TEXT    NOT NULL UNIQUE,            -- random, stable across resubmissions
      user_id        TEXT    NOT NULL,
      signer         TEXT    NOT NULL,                   -- ForwardRequest.from (checksummed)
      target         TEXT    NOT NULL,                   -- ForwardRequest.to
      value          TEXT    NOT NULL,
      gas            TEXT    NOT NULL,
      data           TEXT    NOT NULL,
      custodial      INTEGER NOT NULL,                   -- 1: custody signs at send time; 0: member-signed
      nonce          INTEGER,                            -- forwarder nonce, once signed
      deadline       INTEGER,
      signature      TEXT,
      state          TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'mined', 'failed')),
      tx_id          INTEGER REFERENCES relayer_txs (id),
      batch_index    INTEGER,
      tx_hash        TEXT,                               -- the transaction that executed it
      block_number   INTEGER,
      attempts       INTEGER NOT NULL DEFAULT 0,         -- times it was requeued
      error_code     TEXT,
      error_message  TEXT,
      error_decoded  TEXT,                               -- JSON {name, signature, args}
      created_at     INTEGER NOT NULL,
      updated_at     INTEGER NOT NULL
    );
    CREATE INDEX outbox_requests_state ON outbox_requests (state, seq);
    CREATE INDEX outbox_requests_signer ON outbox_requests (signer, state);
    CREATE INDEX outbox_requests_tx ON outbox_requests (tx_id);
    `,
    // The daily gas budget sums a user's requests of the current UTC day on every submission.
    `CREATE INDEX outbox_requests_user_day ON outbox_requests (user_id, created_at);`,
    // A reorganisation can take back a block that mined a relayer transaction: the transaction is
    // open again and its requests sent again; the counts say how often that happened to each.
    `
    ALTER TABLE relayer_txs ADD COLUMN reorgs INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbox_requests ADD COLUMN reorgs INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX relayer_txs_mined ON relayer_txs (relayer, state, block_number);
    `,
  ],
};

export interface RequestRow {
  seq: number;
  id: string;
  user_id: string;
  signer: string;
  target: string;
  value: string;
  gas: string;
  data: string;
  custodial: number;
  nonce: number | null;
  deadline: number | null;
  signature: string | null;
  state: RequestState;
  tx_id: number | null;
  batch_index: number | null;
  tx_hash: string | null;
  block_number: number | null;
  attempts: number;
  error_code: string | null;
  error_message: string | null;
  error_decoded: string | null;
  /** Times a reorganisation took back the block that settled it. */
  reorgs: number;
  created_at: number;
  updated_at: number;
}

export interface TxRow {
  id: number;
  relayer: string;
  nonce: number;
  gas_limit: string;
  value: string;
  from_block: number;
  state: TxState;
  broadcast: number;
  mined_hash: string | null;
  block_number: number | null;
  status: number | null;
  last_sent_at: number;
  /** Times a reorganisation took back the block that mined it. */
  reorgs: number;
  created_at: number;
  updated_at: number;
}

export interface AttemptRow {
  hash: string;
  tx_id: number;
  raw: string;
  max_fee_per_gas: string | null;
  max_priority_fee_per_gas: string | null;
  gas_price: string | null;
  created_at: number;
}

export interface NewRequest {
  id: string;
  userId: string;
  signer: string;
  target: string;
  value: bigint;
  gas: bigint;
  data: string;
  custodial: boolean;
  nonce?: number;
  deadline?: number;
  signature?: string;
}

export interface NewAttempt {
  hash: string;
  raw: string;
  maxFeePerGas?: bigint | null;
  maxPriorityFeePerGas?: bigint | null;
  gasPrice?: bigint | null;
}

export interface SignedPart {
  id: string;
  nonce: number;
  deadline: number;
  signature: string;
}

export interface Settlement {
  id: string;
  state: "mined" | "failed";
  txHash?: string | null;
  blockNumber?: number | null;
  error?: { code: string; message: string; decoded?: unknown };
}

export type OutboxStore = ReturnType<typeof createOutboxStore>;

/** The outbox's prepared statements. */
function prepareStatements(db: Db) {
  return {
    insertRequest: db.prepare(`
      INSERT INTO outbox_requests (id, user_id, signer, target, value, gas, data, custodial, nonce, deadline, signature,
                                   state, created_at, updated_at)
      VALUES (@id, @userId, @signer, @target, @value, @gas, @data, @custodial, @nonce, @deadline, @signature,
              'queued', @now, @now)`),
    request: db.prepare<[string], RequestRow>("SELECT * FROM outbox_requests WHERE id = ?"),
    // Every accepted request counts, whatever became of it: a request that failed on-chain was paid for.
    gasSince: db.prepare<[string, number], { gas: number | bigint | null }>(
      "SELECT SUM(CAST(gas AS INTEGER)) AS gas FROM outbox_requests WHERE user_id = ? AND created_at >= ?",
    ),
    queued: db.prepare<[number], RequestRow>(
      "SELECT * FROM outbox_requests WHERE state = 'queued' ORDER BY seq LIMIT ?",
    ),
    ofTx: db.prepare<[number], RequestRow>("SELECT * FROM outbox_requests WHERE tx_id = ? ORDER BY batch_index"),
    maxNonce: db.prepare<[string], { n: number | null }>(
      "SELECT MAX(nonce) AS n FROM outbox_requests WHERE signer = ? AND state IN ('queued', 'sent') AND nonce IS NOT NULL",
    ),
    maxSentNonce: db.prepare<[string], { n: number | null }>(
      "SELECT MAX(nonce) AS n FROM outbox_requests WHERE signer = ? AND state = 'sent'",
    ),
    depth: db.prepare<[], { state: string; n: number }>(
      "SELECT state, COUNT(*) AS n FROM outbox_requests WHERE state IN ('queued', 'sent') GROUP BY state",
    ),
    markSent: db.prepare(`
      UPDATE outbox_requests SET state = 'sent', tx_id = @txId, batch_index = @index, nonce = @nonce,
             deadline = @deadline, signature = @signature, updated_at = @now
      WHERE id = @id AND state = 'queued'`),
    settle: db.prepare(`
      UPDATE outbox_requests SET state = @state, tx_hash = @txHash, block_number = @blockNumber,
             error_code = @errorCode, error_message = @errorMessage, error_decoded = @errorDecoded, updated_at = @now
      WHERE id = @id AND state IN ('queued', 'sent')`),
    requeue: db.prepare(`
      UPDATE outbox_requests SET state = 'queued', tx_id = NULL, batch_index = NULL, attempts = attempts + @bump,
             nonce = CASE WHEN custodial = 1 THEN NULL ELSE nonce END,
             deadline = CASE WHEN custodial = 1 THEN NULL ELSE deadline END,
             signature = CASE WHEN custodial = 1 THEN NULL ELSE signature END,
             updated_at = @now
      WHERE id = @id AND state IN ('queued', 'sent')`),
    insertTx: db.prepare(`
      INSERT INTO relayer_txs (relayer, nonce, gas_limit, value, from_block, state, last_sent_at, created_at, updated_at)
      VALUES (@relayer, @nonce, @gasLimit, @value, @fromBlock, 'sent', @now, @now, @now)`),
    tx: db.prepare<[number], TxRow>("SELECT * FROM relayer_txs WHERE id = ?"),
    openTxs: db.prepare<[string], TxRow>(
      "SELECT * FROM relayer_txs WHERE relayer = ? AND state = 'sent' ORDER BY nonce",
    ),
    insertAttempt: db.prepare(`
      INSERT INTO relayer_tx_attempts (hash, tx_id, raw, max_fee_per_gas, max_priority_fee_per_gas, gas_price, created_at)
      VALUES (@hash, @txId, @raw, @maxFee, @maxPriority, @gasPrice, @now)`),
    attempts: db.prepare<[number], AttemptRow>("SELECT * FROM relayer_tx_attempts WHERE tx_id = ? ORDER BY rowid"),
    replaced: db.prepare("UPDATE relayer_txs SET broadcast = 0, last_sent_at = ?, updated_at = ? WHERE id = ?"),
    broadcast: db.prepare("UPDATE relayer_txs SET broadcast = ?, updated_at = ? WHERE id = ?"),
    txMined: db.prepare(
      "UPDATE relayer_txs SET state = 'mined', mined_hash = ?, block_number = ?, status = ?, updated_at = ? WHERE id = ?",
    ),
    txDropped: db.prepare("UPDATE relayer_txs SET state = 'dropped', updated_at = ? WHERE id = ?"),
    minedSince: db.prepare<[string, number], TxRow>(
      "SELECT * FROM relayer_txs WHERE relayer = ? AND state = 'mined' AND block_number >= ? ORDER BY nonce",
    ),
    reopenTx: db.prepare(`
      UPDATE relayer_txs SET state = 'sent', broadcast = 0, mined_hash = NULL, block_number = NULL, status = NULL,
             reorgs = reorgs + 1, last_sent_at = @now, updated_at = @now
      WHERE id = @id AND state = 'mined'`),
    // Only what a block of the chain settled goes back (no block: expired, not executed, ... stay).
    reopenRequests: db.prepare(`
      UPDATE outbox_requests SET state = 'sent', tx_hash = NULL, block_number = NULL, error_code = NULL,
             error_message = NULL, error_decoded = NULL, reorgs = reorgs + 1, updated_at = @now
      WHERE tx_id = @id AND state IN ('mined', 'failed') AND block_number IS NOT NULL`),
    movedTx: db.prepare("UPDATE relayer_txs SET block_number = @block, updated_at = @now WHERE id = @id"),
    movedRequests: db.prepare(`
      UPDATE outbox_requests SET block_number = @block, updated_at = @now
      WHERE tx_id = @id AND tx_hash = @hash AND state IN ('mined', 'failed')`),
    insertFiller: db.prepare(`
      INSERT INTO relayer_txs (relayer, nonce, gas_limit, value, from_block, state, last_sent_at, created_at, updated_at)
      VALUES (@relayer, @nonce, @gasLimit, '0', @fromBlock, 'sent', @now, @now, @now)`),
    oldestPending: db.prepare<[], { at: number | null }>(
      "SELECT MIN(created_at) AS at FROM outbox_requests WHERE state IN ('queued', 'sent')",
    ),
    nextNonce: db.prepare<[string], { next_nonce: number }>("SELECT next_nonce FROM relayer_nonces WHERE relayer = ?"),
    setNonce: db.prepare(
      "INSERT INTO relayer_nonces (relayer, next_nonce) VALUES (?, ?) ON CONFLICT(relayer) DO UPDATE SET next_nonce = excluded.next_nonce",
    ),
    takeNonce: db.prepare("UPDATE relayer_nonces SET next_nonce = next_nonce + 1 WHERE relayer = ? AND next_nonce = ?"),
  };
}

type Statements = ReturnType<typeof prepareStatements>;
const now = () => Date.now();

function settleRow(q: Statements, s: Settlement): void {
  q.settle.run({
    id: s.id,
    state: s.state,
    txHash: s.txHash ?? null,
    blockNumber: s.blockNumber ?? null,
    errorCode: s.error?.code ?? null,
    errorMessage: s.error?.message ?? null,
    errorDecoded: s.error?.decoded === undefined ? null : JSON.stringify(s.error.decoded),
    now: now(),
  });
}

function insertRequestRow(q: Statements, r: NewRequest): void {
  q.insertRequest.run({
    id: r.id,
    userId: r.userId,
    signer: r.signer,
    target: r.target,
    value: r.value.toString(),
    gas: r.gas.toString(),
    data: r.data,
    custodial: r.custodial ? 1 : 0,
    nonce: r.nonce ?? null,
    deadline: r.deadline ?? null,
    signature: r.signature ?? null,
    now: now(),
  });
}

function insertAttemptRow(q: Statements, txId: number, a: NewAttempt): void {
  q.insertAttempt.run({
    hash: a.hash,
    txId,
    raw: a.raw,
    maxFee: a.maxFeePerGas?.toString() ?? null,
    maxPriority: a.maxPriorityFeePerGas?.toString() ?? null,
    gasPrice: a.gasPrice?.toString() ?? null,
    now: now(),
  });
}

export function createOutboxStore(db: Db) {
  const q = prepareStatements(db);
  const insertRequest = (r: NewRequest) => insertRequestRow(q, r);
  const insertAttempt = (txId: number, a: NewAttempt) => insertAttemptRow(q, txId, a);
  const settleOne = (s: Settlement) => settleRow(q, s);

  return {
    insertRequest,
    /**
     * Records `r` only if the gas of `r.userId`'s requests created since `since` (ms) plus `r.gas`
     * stays within `budget`, atomically (an immediate transaction: concurrent submissions of the
     * same user, or another process on the file, cannot both take the last of the budget). Returns
     * the gas used before `r`, and whether `r` was recorded.
     */
    insertWithinBudget(r: NewRequest, budget: bigint, since: number): { used: bigint; inserted: boolean } {
      return db
        .transaction(() => {
          const used = BigInt(q.gasSince.get(r.userId, since)?.gas ?? 0);
          if (used + r.gas > budget) return { used, inserted: false };
          insertRequest(r);
          return { used, inserted: true };
        })
        .immediate();
    },
    /** Gas of `userId`'s requests created since `since` (ms). */
    gasSince: (userId: string, since: number): bigint => BigInt(q.gasSince.get(userId, since)?.gas ?? 0),
    request: (id: string) => q.request.get(id),
    queued: (limit: number) => q.queued.all(limit),
    requestsOfTx: (txId: number) => q.ofTx.all(txId),
    /** Highest forwarder nonce held by a queued or sent request of `signer`. */
    maxHeldNonce: (signer: string) => q.maxNonce.get(signer)?.n ?? null,
    maxSentNonce: (signer: string) => q.maxSentNonce.get(signer)?.n ?? null,
    depth(): { queued: number; sent: number } {
      const out = { queued: 0, sent: 0 };
      for (const row of q.depth.all()) out[row.state as "queued" | "sent"] = row.n;
      return out;
    },
    tx: (id: number) => q.tx.get(id),
    openTxs: (relayer: string) => q.openTxs.all(relayer),
    attempts: (txId: number) => q.attempts.all(txId),
    nextNonce: (relayer: string) => q.nextNonce.get(relayer)?.next_nonce,
    setNextNonce: (relayer: string, next: number) => void q.setNonce.run(relayer, next),

    /**
     * Records a new relayer transaction and moves its requests to 'sent', atomically with taking
     * the relayer nonce. Returns the tx id, or undefined when the nonce was taken meanwhile.
     */
    recordSent(tx: {
      relayer: string;
      nonce: number;
      gasLimit: bigint;
      value: bigint;
      fromBlock: number;
      attempt: NewAttempt;
      requests: SignedPart[];
    }): number | undefined {
      return db.transaction(() => {
        if (q.takeNonce.run(tx.relayer, tx.nonce).changes !== 1) return undefined;
        const t = now();
        const txId = Number(
          q.insertTx.run({
            relayer: tx.relayer,
            nonce: tx.nonce,
            gasLimit: tx.gasLimit.toString(),
            value: tx.value.toString(),
            fromBlock: tx.fromBlock,
            now: t,
          }).lastInsertRowid,
        );
        insertAttempt(txId, tx.attempt);
        tx.requests.forEach((r, index) => {
          const changed = q.markSent.run({
            id: r.id,
            txId,
            index,
            nonce: r.nonce,
            deadline: r.deadline,
            signature: r.signature,
            now: t,
          }).changes;
          if (changed !== 1) throw new Error(`outbox request ${r.id} left the queue while being sent`);
        });
        return txId;
      })();
    },
    recordReplacement(txId: number, attempt: NewAttempt): void {
      db.transaction(() => {
        insertAttempt(txId, attempt);
        q.replaced.run(now(), now(), txId);
      })();
    },
    setBroadcast: (txId: number, ok: boolean) => void q.broadcast.run(ok ? 1 : 0, now(), txId),
    ...reorgRecords(db, q, insertAttempt),
    /** When the oldest request still queued or sent was accepted (ms), or null. */
    oldestPending: () => q.oldestPending.get()?.at ?? null,
    /** Marks a transaction mined and settles or requeues its requests, in one SQLite transaction. */
    settleTx(
      txId: number,
      outcome: { minedHash: string; blockNumber: number; status: number } | "dropped",
      settlements: Settlement[],
      requeue: string[],
      countAttempt = true,
    ): void {
      db.transaction(() => {
        if (outcome === "dropped") q.txDropped.run(now(), txId);
        else q.txMined.run(outcome.minedHash, outcome.blockNumber, outcome.status, now(), txId);
        for (const s of settlements) settleOne(s);
        for (const id of requeue) q.requeue.run({ id, bump: countAttempt ? 1 : 0, now: now() });
      })();
    },
    settle: settleOne,
  };
}

/**
 * What the reconciler (reconcile.ts) records when the chain changes its mind: transactions a reorg took
 * back or moved, and fillers of nonce gaps; each in one SQLite transaction.
 */
function reorgRecords(
  db: Db,
  q: ReturnType<typeof prepareStatements>,
  insertAttempt: (txId: number, a: NewAttempt) => void,
) {
  return {
    /** The relayer's transactions recorded mined in block `fromBlock` or later. */
    minedSince: (relayer: string, fromBlock: number) => q.minedSince.all(relayer, fromBlock),
    /**
     * A mined transaction whose block a reorganisation took back: open again (to be sent again, or
     * resolved by its nonce), and the requests it settled sent again, in one SQLite transaction.
     * Returns the ids of those requests.
     */
    reopenTx(txId: number): string[] {
      return db.transaction(() => {
        if (q.reopenTx.run({ id: txId, now: now() }).changes !== 1) return [];
        const ids = q.ofTx
          .all(txId)
          .filter((r) => (r.state === "mined" || r.state === "failed") && r.block_number !== null)
          .map((r) => r.id);
        q.reopenRequests.run({ id: txId, now: now() });
        return ids;
      })();
    },
    /** A mined transaction the chain now shows in another block (re-included after a reorganisation). */
    movedTx(txId: number, hash: string, block: number): void {
      db.transaction(() => {
        q.movedTx.run({ id: txId, block, now: now() });
        q.movedRequests.run({ id: txId, hash, block, now: now() });
      })();
    },
    /**
     * A transaction that only uses up `nonce` (a gap below our open transactions, which the node
     * would hold back for ever otherwise), outside the allocator: the nonce is below its next one.
     */
    recordFiller(tx: { relayer: string; nonce: number; gasLimit: bigint; fromBlock: number; attempt: NewAttempt }) {
      return db.transaction(() => {
        const txId = Number(
          q.insertFiller.run({
            relayer: tx.relayer,
            nonce: tx.nonce,
            gasLimit: tx.gasLimit.toString(),
            fromBlock: tx.fromBlock,
            now: now(),
          }).lastInsertRowid,
        );
        insertAttempt(txId, tx.attempt);
        return txId;
      })();
    },
  };
}
