/**
 * Tables of the index for money in dirhams (issue 13): settlement tokens and their currency, the
 * cooperatives' payout accounts and the members' choice to be paid through them, claims that went to
 * a payout account, batch closures (the rounding leftover paid to the reserve), the payout ledger and
 * the reference rates. Projections of the journal like the others (server/index/projectPayouts.ts):
 * emptied and replayed on a rewind, rebuilt by a reindex.
 *
 * Same conventions as schema.ts: amounts, rates and other integers of 64 bits or more are decimal
 * TEXT; cooperative ids, decimals and chain positions INTEGER; hashes lowercase hex; addresses
 * checksummed; every row carries the chain facts of the log that made it (an answered payout also
 * those of the answer, `answered_*`).
 */

const FACTS = `tx_hash TEXT NOT NULL, block_number INTEGER NOT NULL, log_index INTEGER NOT NULL, block_time INTEGER NOT NULL`;

/** Migration step of module "index" (appended to schema.ts's steps). */
export const PAYOUTS_MIGRATION = `
CREATE TABLE ix_settlement_tokens (
  token TEXT PRIMARY KEY,
  currency TEXT NOT NULL,
  decimals INTEGER NOT NULL,
  ${FACTS}
);

CREATE TABLE ix_payout_accounts (
  cooperative_id INTEGER PRIMARY KEY,
  account TEXT NOT NULL,
  ${FACTS}
);

CREATE TABLE ix_payout_routes (
  cooperative_id INTEGER NOT NULL,
  member TEXT NOT NULL,
  through_cooperative INTEGER NOT NULL,
  ${FACTS},
  PRIMARY KEY (cooperative_id, member)
);
CREATE INDEX ix_payout_routes_member ON ix_payout_routes (member);

CREATE TABLE ix_routed_claims (
  batch_id TEXT NOT NULL,
  token TEXT NOT NULL,
  account TEXT NOT NULL,
  cooperative_id INTEGER NOT NULL,
  recipient TEXT NOT NULL,
  amount TEXT NOT NULL,
  ${FACTS},
  PRIMARY KEY (tx_hash, log_index)
);
CREATE INDEX ix_routed_claims_coop ON ix_routed_claims (cooperative_id, account);

CREATE TABLE ix_batch_closures (
  batch_id TEXT NOT NULL,
  cooperative_id INTEGER NOT NULL,
  token TEXT NOT NULL,
  rounded_off TEXT NOT NULL,
  ${FACTS},
  PRIMARY KEY (batch_id, token)
);
CREATE INDEX ix_batch_closures_coop ON ix_batch_closures (cooperative_id);

CREATE TABLE ix_payouts (
  payout_id TEXT PRIMARY KEY,
  cooperative_id INTEGER NOT NULL,
  member TEXT NOT NULL,
  token TEXT NOT NULL,
  token_amount TEXT NOT NULL,
  dirhams TEXT NOT NULL,
  rate_e6 TEXT NOT NULL,
  purpose TEXT NOT NULL,
  method TEXT NOT NULL,
  reference_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('recorded', 'confirmed', 'contested')),
  ${FACTS},
  contest_reason_hash TEXT,
  contested_tx_hash TEXT,
  contested_block_time INTEGER,
  answered_tx_hash TEXT,
  answered_block_number INTEGER,
  answered_log_index INTEGER,
  answered_block_time INTEGER
);
CREATE INDEX ix_payouts_coop ON ix_payouts (cooperative_id, member, block_number, log_index);
CREATE INDEX ix_payouts_member ON ix_payouts (member);

CREATE TABLE ix_reference_rates (
  currency TEXT NOT NULL,
  rate_e6 TEXT NOT NULL,
  as_of TEXT NOT NULL,
  source TEXT NOT NULL,
  ${FACTS},
  PRIMARY KEY (tx_hash, log_index)
);
CREATE INDEX ix_reference_rates_currency ON ix_reference_rates (currency, block_number, log_index);
`;

/** Its projection tables (emptied before a replay like schema.ts's). */
export const PAYOUT_TABLES = [
  "ix_settlement_tokens",
  "ix_payout_accounts",
  "ix_payout_routes",
  "ix_routed_claims",
  "ix_batch_closures",
  "ix_payouts",
  "ix_reference_rates",
] as const;
