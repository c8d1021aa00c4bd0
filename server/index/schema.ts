/**
 * Tables of the chain index (module "index"). Everything here can be rebuilt from the chain.
 *
 * `ix_logs` is the journal: every decoded log of the three contracts, keyed by its place in the
 * chain. The other tables are projections of that journal, applied in chain order. A rewind after a
 * reorg deletes journal rows above the common ancestor and replays the rest, so projections that
 * keep a current value (a sale's state, a batch's drawn quantity) are never left half undone.
 *
 * Conventions: integers of 64 bits or more (amounts, quantities, weights, GTINs, validUntil) are
 * decimal TEXT, exact; cooperative, sale and certification ids, basis points, periods, block numbers
 * and timestamps bounded by the contracts are INTEGER. Batch ids and hashes are lowercase 0x hex,
 * addresses are checksummed. Every row carries the chain facts of the log that made it: tx_hash,
 * block_number, log_index, block_time.
 */
import type { Migrations } from "../store/db";
import { PAYOUTS_MIGRATION, PAYOUT_TABLES } from "./payoutSchema";

const FACTS = `tx_hash TEXT NOT NULL, block_number INTEGER NOT NULL, log_index INTEGER NOT NULL, block_time INTEGER NOT NULL`;
/** The facts of a table with one row per log (a change, a step, a payment), keyed by the log's place. */
const PER_LOG = `${FACTS},
  PRIMARY KEY (tx_hash, log_index)`;

const V1 = `
CREATE TABLE ix_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  deployment TEXT NOT NULL,
  last_block INTEGER,
  last_hash TEXT
);

CREATE TABLE ix_logs (
  block_number INTEGER NOT NULL,
  log_index INTEGER NOT NULL,
  block_hash TEXT NOT NULL,
  block_time INTEGER NOT NULL,
  tx_hash TEXT NOT NULL,
  tx_index INTEGER NOT NULL,
  address TEXT NOT NULL,
  contract TEXT NOT NULL,
  event TEXT NOT NULL,
  args TEXT NOT NULL,
  PRIMARY KEY (block_number, log_index),
  UNIQUE (tx_hash, log_index)
);

CREATE TABLE ix_cooperatives (
  cooperative_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  region TEXT NOT NULL,
  registration_number TEXT NOT NULL,
  admin TEXT NOT NULL,
  reserve_bps INTEGER NOT NULL,
  women_led INTEGER NOT NULL,
  ${FACTS}
);

CREATE TABLE ix_cooperative_changes (
  cooperative_id INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('admin', 'reserve')),
  previous TEXT NOT NULL,
  value TEXT NOT NULL,
  ${PER_LOG}
);
CREATE INDEX ix_cooperative_changes_coop ON ix_cooperative_changes (cooperative_id, block_number, log_index);

CREATE TABLE ix_members (
  cooperative_id INTEGER NOT NULL,
  account TEXT NOT NULL,
  reference_hash TEXT NOT NULL,
  active INTEGER NOT NULL,
  ${FACTS},
  removed_tx_hash TEXT,
  removed_block_number INTEGER,
  removed_log_index INTEGER,
  removed_block_time INTEGER,
  PRIMARY KEY (cooperative_id, account)
);
CREATE INDEX ix_members_account ON ix_members (account);

CREATE TABLE ix_batches (
  batch_id TEXT PRIMARY KEY,
  cooperative_id INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('registered', 'split', 'merge')),
  registered_by TEXT NOT NULL,
  product_code TEXT NOT NULL,
  gtin TEXT NOT NULL,
  lot_code TEXT NOT NULL,
  quantity TEXT NOT NULL,
  unit TEXT NOT NULL,
  origin TEXT NOT NULL,
  production_date INTEGER NOT NULL,
  metadata_hash TEXT NOT NULL,
  contributors_root TEXT NOT NULL,
  total_weight TEXT NOT NULL,
  contributors_from TEXT,
  drawn TEXT NOT NULL,
  ${FACTS}
);
CREATE INDEX ix_batches_order ON ix_batches (block_number, log_index);
CREATE INDEX ix_batches_coop ON ix_batches (cooperative_id, block_number, log_index);
CREATE INDEX ix_batches_product ON ix_batches (product_code, block_number, log_index);

CREATE TABLE ix_batch_contributors (
  batch_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  account TEXT NOT NULL,
  weight TEXT NOT NULL,
  PRIMARY KEY (batch_id, account)
);
CREATE INDEX ix_batch_contributors_account ON ix_batch_contributors (account);

CREATE TABLE ix_batch_events (
  batch_id TEXT NOT NULL,
  biz_step TEXT NOT NULL,
  location TEXT NOT NULL,
  event_time INTEGER NOT NULL,
  document_hash TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  ${PER_LOG}
);
CREATE INDEX ix_batch_events_batch ON ix_batch_events (batch_id, event_time, block_number, log_index);

CREATE TABLE ix_certifications (
  certification_id INTEGER PRIMARY KEY,
  batch_id TEXT NOT NULL,
  certifier TEXT NOT NULL,
  scheme TEXT NOT NULL,
  certificate_hash TEXT NOT NULL,
  valid_until TEXT NOT NULL,
  revoked INTEGER NOT NULL,
  ${FACTS},
  revoked_by TEXT,
  revoke_reason_hash TEXT,
  revoked_tx_hash TEXT,
  revoked_block_number INTEGER,
  revoked_log_index INTEGER,
  revoked_block_time INTEGER
);
CREATE INDEX ix_certifications_batch ON ix_certifications (batch_id);

CREATE TABLE ix_lineage (
  parent_id TEXT NOT NULL,
  child_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('split', 'merge')),
  position INTEGER NOT NULL,
  quantity TEXT NOT NULL,
  actor TEXT NOT NULL,
  ${FACTS},
  PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX ix_lineage_child ON ix_lineage (child_id);

CREATE TABLE ix_quantity_changes (
  batch_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('drawn', 'restored')),
  quantity TEXT NOT NULL,
  drawn_total TEXT NOT NULL,
  ${PER_LOG}
);
CREATE INDEX ix_quantity_changes_batch ON ix_quantity_changes (batch_id, block_number, log_index);

CREATE TABLE ix_sales (
  sale_id INTEGER PRIMARY KEY,
  batch_id TEXT NOT NULL,
  cooperative_id INTEGER NOT NULL,
  seller TEXT NOT NULL,
  buyer TEXT NOT NULL,
  token TEXT NOT NULL,
  price TEXT NOT NULL,
  quantity TEXT NOT NULL,
  fee_bps INTEGER NOT NULL,
  reserve_bps INTEGER NOT NULL,
  shipping_period INTEGER NOT NULL,
  dispute_window INTEGER NOT NULL,
  state TEXT NOT NULL,
  funded_amount TEXT,
  funded_at INTEGER,
  ship_by INTEGER,
  shipped_at INTEGER,
  shipment_document_hash TEXT,
  dispute_until INTEGER,
  ${FACTS}
);
CREATE INDEX ix_sales_batch ON ix_sales (batch_id);
CREATE INDEX ix_sales_coop ON ix_sales (cooperative_id);
CREATE INDEX ix_sales_state ON ix_sales (state);

CREATE TABLE ix_sale_steps (
  sale_id INTEGER NOT NULL,
  step TEXT NOT NULL,
  actor TEXT,
  ${PER_LOG}
);
CREATE INDEX ix_sale_steps_sale ON ix_sale_steps (sale_id, block_number, log_index);

CREATE TABLE ix_releases (
  sale_id INTEGER NOT NULL,
  batch_id TEXT NOT NULL,
  token TEXT NOT NULL,
  gross TEXT NOT NULL,
  fee TEXT NOT NULL,
  reserve TEXT NOT NULL,
  net TEXT NOT NULL,
  released_total TEXT NOT NULL,
  ${PER_LOG}
);
CREATE INDEX ix_releases_sale ON ix_releases (sale_id);
CREATE INDEX ix_releases_batch ON ix_releases (batch_id, token, block_number, log_index);

CREATE TABLE ix_refunds (
  sale_id INTEGER NOT NULL,
  buyer TEXT NOT NULL,
  token TEXT NOT NULL,
  amount TEXT NOT NULL,
  ${PER_LOG}
);
CREATE INDEX ix_refunds_sale ON ix_refunds (sale_id);

CREATE TABLE ix_disputes (
  sale_id INTEGER PRIMARY KEY,
  buyer TEXT NOT NULL,
  reason_hash TEXT NOT NULL,
  ${FACTS},
  arbiter TEXT,
  refund_bps INTEGER,
  ruling_hash TEXT,
  resolved_tx_hash TEXT,
  resolved_block_number INTEGER,
  resolved_log_index INTEGER,
  resolved_block_time INTEGER
);

CREATE TABLE ix_claims (
  batch_id TEXT NOT NULL,
  token TEXT NOT NULL,
  account TEXT NOT NULL,
  amount TEXT NOT NULL,
  weight TEXT NOT NULL,
  ${PER_LOG}
);
CREATE INDEX ix_claims_account ON ix_claims (account, batch_id, token);
CREATE INDEX ix_claims_batch ON ix_claims (batch_id, token);

CREATE TABLE ix_withdrawals (
  token TEXT NOT NULL,
  account TEXT NOT NULL,
  amount TEXT NOT NULL,
  ${PER_LOG}
);
CREATE INDEX ix_withdrawals_account ON ix_withdrawals (account);

CREATE TABLE ix_reserve_withdrawals (
  cooperative_id INTEGER NOT NULL,
  token TEXT NOT NULL,
  recipient TEXT NOT NULL,
  amount TEXT NOT NULL,
  ${PER_LOG}
);
CREATE INDEX ix_reserve_withdrawals_coop ON ix_reserve_withdrawals (cooperative_id);
`;

/** GS1 Digital Link lookups (/01/<gtin>/10/<lot>) by index instead of a scan of every batch. */
const V2 = `
CREATE INDEX ix_batches_digital_link ON ix_batches (gtin, lot_code, block_number, log_index);
`;

/**
 * Issue 16: every account is given an index when it first joins a cooperative (MemberAdded carries
 * it); batches name their contributors by index, and the index turns them back into addresses.
 */
const ACCOUNTS = `
CREATE TABLE ix_accounts (
  account_index INTEGER PRIMARY KEY,
  account TEXT NOT NULL UNIQUE
);
`;

export const indexMigrations: Migrations = { module: "index", steps: [V1, V2, PAYOUTS_MIGRATION, ACCOUNTS] };

/** Projection tables, rebuilt from `ix_logs` (children before parents is irrelevant: no foreign keys). */
export const PROJECTION_TABLES = [
  "ix_accounts",
  "ix_cooperatives",
  "ix_cooperative_changes",
  "ix_members",
  "ix_batches",
  "ix_batch_contributors",
  "ix_batch_events",
  "ix_certifications",
  "ix_lineage",
  "ix_quantity_changes",
  "ix_sales",
  "ix_sale_steps",
  "ix_releases",
  "ix_refunds",
  "ix_disputes",
  "ix_claims",
  "ix_withdrawals",
  "ix_reserve_withdrawals",
  ...PAYOUT_TABLES,
] as const;

/** Every table of the index, the journal first. */
export const INDEX_TABLES = ["ix_state", "ix_logs", ...PROJECTION_TABLES] as const;
