/**
 * The projections: how each decoded event changes the read model. Called in chain order, once per
 * log (the journal insert decides "once"), inside the caller's transaction. Upserts on natural keys
 * and (tx_hash, log_index) keep even a repeated call harmless.
 */
import type { Statement } from "better-sqlite3";
import type { Db } from "../store/db";
import type { Args, ChainFacts, IndexedEvent, Json } from "./decode";
import { PROJECTION_TABLES } from "./schema";
import { createPayoutProjection } from "./projectPayouts";

import type { SaleState } from "../../domain/saleStates";
import { unpackContributor } from "../../domain/contributors";
import { wordToText } from "../../domain/words";

export type { SaleState };

const REPLAY_PAGE = 2000;

export interface Projector {
  /** Writes the log into the journal; false when it was already there (nothing else is done). */
  record(event: IndexedEvent): boolean;
  /** Applies a journaled event to the projections. */
  apply(event: IndexedEvent): void;
  /** Empties the projections and applies the whole journal again, in chain order. */
  replay(): number;
}

function str(args: Args, key: string): string {
  const v = args[key];
  if (typeof v !== "string") throw new Error(`event argument ${key}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

/** A number from a narrow integer or a decimal string the contracts keep far below 2^53 (ids, times). */
function num(args: Args, key: string): number {
  const v = args[key];
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`event argument ${key}: not a safe integer: ${JSON.stringify(v)}`);
  return n;
}

function list(args: Args, key: string): Json[] {
  const v = args[key];
  if (!Array.isArray(v)) throw new Error(`event argument ${key}: expected a list`);
  return v;
}

function record(value: Json): Args {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("expected a struct");
  return value;
}

/** Applies one event's arguments, at its place in the chain, to the projections. */
type Handler = (a: Args, f: ChainFacts) => void;

export function createProjector(db: Db): Projector {
  const journal = db.prepare(
    `INSERT OR IGNORE INTO ix_logs (block_number, log_index, block_hash, block_time, tx_hash, tx_index, address, contract, event, args)
     VALUES (@blockNumber, @logIndex, @blockHash, @blockTime, @txHash, @txIndex, @address, @contract, @name, @args)`,
  );
  // Keyset pages: a statement being iterated blocks writes on the same connection. Columns are
  // named as IndexedEvent's fields, so a row is an event but for its JSON arguments.
  const journalPage = db.prepare<[number, number, number], Omit<IndexedEvent, "args"> & { args: string }>(
    `SELECT block_number AS blockNumber, log_index AS logIndex, block_hash AS blockHash, block_time AS blockTime,
       tx_hash AS txHash, tx_index AS txIndex, address, contract, event AS name, args
     FROM ix_logs WHERE (block_number, log_index) > (?, ?) ORDER BY block_number, log_index LIMIT ?`,
  );
  // One table of handlers, keyed by event name; events of no family (roles, pause, fee and token
  // settings) are kept in the journal only.
  const handlers = new Map<string, Handler>(
    Object.entries({
      ...cooperativeHandlers(db),
      ...batchHandlers(db),
      ...certificationHandlers(db),
      ...saleHandlers(db),
      ...payoutHandlers(db),
    }),
  );

  // Money in dirhams (settlement tokens, payout routes and accounts, the payout ledger): its own module.
  const settlement = createPayoutProjection(db);

  function apply(e: IndexedEvent): void {
    const handler = handlers.get(e.name);
    if (handler !== undefined) handler(e.args, facts(e));
    else settlement(e);
  }

  return {
    record(e) {
      const result = journal.run({
        blockNumber: e.blockNumber,
        logIndex: e.logIndex,
        blockHash: e.blockHash,
        blockTime: e.blockTime,
        txHash: e.txHash,
        txIndex: e.txIndex,
        address: e.address,
        contract: e.contract,
        name: e.name,
        args: JSON.stringify(e.args),
      });
      return result.changes === 1;
    },
    apply,
    replay() {
      for (const table of PROJECTION_TABLES) db.prepare(`DELETE FROM ${table}`).run();
      let count = 0;
      let after = [-1, -1];
      for (;;) {
        const rows = journalPage.all(after[0], after[1], REPLAY_PAGE);
        for (const row of rows) apply({ ...row, args: JSON.parse(row.args) as Args });
        count += rows.length;
        if (rows.length < REPLAY_PAGE) break;
        const last = rows[rows.length - 1];
        after = [last.blockNumber, last.logIndex];
      }
      return count;
    },
  };
}

function facts(e: IndexedEvent): ChainFacts {
  return { txHash: e.txHash, blockNumber: e.blockNumber, logIndex: e.logIndex, blockTime: e.blockTime };
}

/** CooperativeRegistry: cooperatives, their admin and reserve-rate changes, their members. */
function cooperativeHandlers(db: Db): Record<string, Handler> {
  const q = {
    coop: db.prepare(
      `INSERT INTO ix_cooperatives (cooperative_id, name, region, registration_number, admin, reserve_bps, women_led,
         tx_hash, block_number, log_index, block_time)
       VALUES (@id, @name, @region, @registrationNumber, @admin, @reserveBps, @womenLed, @txHash, @blockNumber, @logIndex, @blockTime)
       ON CONFLICT (cooperative_id) DO UPDATE SET name = excluded.name, region = excluded.region,
         registration_number = excluded.registration_number, admin = excluded.admin, reserve_bps = excluded.reserve_bps,
         women_led = excluded.women_led, tx_hash = excluded.tx_hash, block_number = excluded.block_number,
         log_index = excluded.log_index, block_time = excluded.block_time`,
    ),
    coopChange: db.prepare(
      `INSERT OR REPLACE INTO ix_cooperative_changes (cooperative_id, kind, previous, value, tx_hash, block_number, log_index, block_time)
       VALUES (@id, @kind, @previous, @value, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
    coopAdmin: db.prepare(`UPDATE ix_cooperatives SET admin = ? WHERE cooperative_id = ?`),
    coopReserve: db.prepare(`UPDATE ix_cooperatives SET reserve_bps = ? WHERE cooperative_id = ?`),
    accountIndex: db.prepare(`INSERT OR IGNORE INTO ix_accounts (account_index, account) VALUES (?, ?)`),
    memberAdd: db.prepare(
      `INSERT INTO ix_members (cooperative_id, account, reference_hash, active, tx_hash, block_number, log_index, block_time)
       VALUES (@id, @account, @referenceHash, 1, @txHash, @blockNumber, @logIndex, @blockTime)
       ON CONFLICT (cooperative_id, account) DO UPDATE SET reference_hash = excluded.reference_hash, active = 1,
         tx_hash = excluded.tx_hash, block_number = excluded.block_number, log_index = excluded.log_index,
         block_time = excluded.block_time, removed_tx_hash = NULL, removed_block_number = NULL,
         removed_log_index = NULL, removed_block_time = NULL`,
    ),
    memberRemove: db.prepare(
      `UPDATE ix_members SET active = 0, removed_tx_hash = @txHash, removed_block_number = @blockNumber,
         removed_log_index = @logIndex, removed_block_time = @blockTime
       WHERE cooperative_id = @id AND account = @account`,
    ),
  };
  return {
    CooperativeRegistered(a, f) {
      q.coop.run({
        ...f,
        id: num(a, "cooperativeId"),
        name: str(a, "name"),
        region: str(a, "region"),
        registrationNumber: str(a, "registrationNumber"),
        admin: str(a, "admin"),
        reserveBps: num(a, "reserveBps"),
        womenLed: a.womenLed === true ? 1 : 0,
      });
    },
    CooperativeAdminChanged(a, f) {
      const id = num(a, "cooperativeId");
      q.coopChange.run({ ...f, id, kind: "admin", previous: str(a, "previousAdmin"), value: str(a, "newAdmin") });
      q.coopAdmin.run(str(a, "newAdmin"), id);
    },
    ReserveRateChanged(a, f) {
      const id = num(a, "cooperativeId");
      const value = num(a, "newBps");
      q.coopChange.run({ ...f, id, kind: "reserve", previous: String(num(a, "previousBps")), value: String(value) });
      q.coopReserve.run(value, id);
    },
    MemberAdded(a, f) {
      q.accountIndex.run(num(a, "index"), str(a, "member"));
      q.memberAdd.run({
        ...f,
        id: num(a, "cooperativeId"),
        account: str(a, "member"),
        referenceHash: str(a, "referenceHash"),
      });
    },
    MemberRemoved(a, f) {
      q.memberRemove.run({ ...f, id: num(a, "cooperativeId"), account: str(a, "member") });
    },
  };
}

/** BatchRegistry, batches and lineage: registrations, splits, merges and the quantity drawn from each batch. */
function batchHandlers(db: Db): Record<string, Handler> {
  const q = {
    batch: db.prepare(
      `INSERT INTO ix_batches (batch_id, cooperative_id, kind, registered_by, product_code, gtin, lot_code, quantity, unit,
         origin, production_date, metadata_hash, contributors_root, total_weight, contributors_from, drawn,
         tx_hash, block_number, log_index, block_time)
       VALUES (@batchId, @cooperativeId, @kind, @registeredBy, @productCode, @gtin, @lotCode, @quantity, @unit,
         @origin, @productionDate, @metadataHash, @contributorsRoot, @totalWeight, NULL, '0',
         @txHash, @blockNumber, @logIndex, @blockTime)
       ON CONFLICT (batch_id) DO NOTHING`,
    ),
    contributor: db.prepare(
      `INSERT OR REPLACE INTO ix_batch_contributors (batch_id, position, account, weight) VALUES (?, ?, ?, ?)`,
    ),
    batchGet: db.prepare<[string], { drawn: string; contributors_from: string | null }>(
      `SELECT drawn, contributors_from FROM ix_batches WHERE batch_id = ?`,
    ),
    batchDrawn: db.prepare(`UPDATE ix_batches SET drawn = ? WHERE batch_id = ?`),
    batchKind: db.prepare(`UPDATE ix_batches SET kind = ? WHERE batch_id = ?`),
    splitChild: db.prepare(
      `UPDATE ix_batches SET kind = 'split',
         (product_code, gtin, unit, origin, production_date) =
           (SELECT product_code, gtin, unit, origin, production_date FROM ix_batches WHERE batch_id = @parentId),
         contributors_from = @from
       WHERE batch_id = @childId`,
    ),
    copyContributors: db.prepare(
      `INSERT OR REPLACE INTO ix_batch_contributors (batch_id, position, account, weight)
       SELECT @childId, position, account, weight FROM ix_batch_contributors WHERE batch_id = @parentId`,
    ),
    lineage: db.prepare(
      `INSERT OR REPLACE INTO ix_lineage (parent_id, child_id, kind, position, quantity, actor, tx_hash, block_number, log_index, block_time)
       VALUES (@parentId, @childId, @kind, @position, @quantity, @actor, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
    quantityChange: db.prepare(
      `INSERT OR REPLACE INTO ix_quantity_changes (batch_id, kind, quantity, drawn_total, tx_hash, block_number, log_index, block_time)
       VALUES (@batchId, @kind, @quantity, @drawnTotal, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
  };

  function addDrawn(batchId: string, delta: bigint): void {
    const row = q.batchGet.get(batchId);
    if (row === undefined) return; // lineage to a batch outside the index cannot happen; be lenient
    q.batchDrawn.run((BigInt(row.drawn) + delta).toString(), batchId);
  }

  function quantityChanged(a: Args, f: ChainFacts, kind: "drawn" | "restored"): void {
    const batchId = str(a, "batchId");
    const drawnTotal = str(a, "drawnTotal");
    q.quantityChange.run({ ...f, batchId, kind, quantity: str(a, "quantity"), drawnTotal });
    q.batchDrawn.run(drawnTotal, batchId); // the contract's running total is authoritative
  }

  /** A packed contributor word (index << 64 | weight) as the account and weight it names. */
  const accountAt = db.prepare<[number], { account: string }>(
    `SELECT account FROM ix_accounts WHERE account_index = ?`,
  );
  function contributorOf(word: Json): { account: string; weight: string } {
    if (typeof word !== "string" && typeof word !== "number") throw new Error("contributor: expected a number");
    const { index, weight } = unpackContributor(BigInt(word));
    const row = accountAt.get(index);
    // MemberAdded gives an index before any batch can name it: a miss is a broken journal.
    if (row === undefined) throw new Error(`contributor: no account has index ${index}`);
    return { account: row.account, weight: weight.toString() };
  }

  return {
    BatchRegistered(a, f) {
      const batchId = str(a, "batchId");
      const info = record(a.info);
      const contributors = list(a, "contributors").map((w) => contributorOf(w));
      q.batch.run({
        ...f,
        batchId,
        cooperativeId: num(a, "cooperativeId"),
        // A split emits its children with no contributors, then BatchSplit fills in the rest.
        kind: contributors.length === 0 ? "split" : "registered",
        registeredBy: str(a, "registeredBy"),
        productCode: wordToText(str(info, "productCode")),
        gtin: str(info, "gtin"),
        lotCode: wordToText(str(info, "lotCode")),
        quantity: str(info, "quantity"),
        unit: wordToText(str(info, "unit")),
        origin: str(info, "origin"),
        productionDate: num(info, "productionDate"),
        metadataHash: str(info, "metadataHash"),
        contributorsRoot: str(a, "contributorsRoot"),
        totalWeight: str(a, "totalWeight"),
      });
      contributors.forEach((c, i) => q.contributor.run(batchId, i, c.account, c.weight));
    },
    BatchSplit(a, f) {
      const parentId = str(a, "parentId");
      const childIds = list(a, "childIds") as string[];
      const quantities = list(a, "quantities") as string[];
      const from = q.batchGet.get(parentId)?.contributors_from ?? parentId;
      const actor = str(a, "splitBy");
      let total = 0n;
      childIds.forEach((childId, position) => {
        q.splitChild.run({ parentId, childId, from });
        q.copyContributors.run({ parentId, childId });
        q.lineage.run({ ...f, parentId, childId, kind: "split", position, quantity: quantities[position], actor });
        total += BigInt(quantities[position]);
      });
      addDrawn(parentId, total);
    },
    BatchesMerged(a, f) {
      const childId = str(a, "batchId");
      q.batchKind.run("merge", childId);
      list(a, "inputs")
        .map(record)
        .forEach((input, position) => {
          const parentId = str(input, "batchId");
          const quantity = str(input, "quantity");
          q.lineage.run({ ...f, parentId, childId, kind: "merge", position, quantity, actor: str(a, "mergedBy") });
          addDrawn(parentId, BigInt(quantity));
        });
    },
    QuantityDrawn: (a, f) => quantityChanged(a, f, "drawn"),
    QuantityRestored: (a, f) => quantityChanged(a, f, "restored"),
  };
}

/** BatchRegistry, what is said of a batch: lifecycle events, certifications and their revocations. */
function certificationHandlers(db: Db): Record<string, Handler> {
  const q = {
    batchEvent: db.prepare(
      `INSERT OR REPLACE INTO ix_batch_events (batch_id, biz_step, location, event_time, document_hash, recorded_by,
         tx_hash, block_number, log_index, block_time)
       VALUES (@batchId, @bizStep, @location, @eventTime, @documentHash, @recordedBy, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
    certify: db.prepare(
      `INSERT INTO ix_certifications (certification_id, batch_id, certifier, scheme, certificate_hash, valid_until, revoked,
         tx_hash, block_number, log_index, block_time)
       VALUES (@certificationId, @batchId, @certifier, @scheme, @certificateHash, @validUntil, 0,
         @txHash, @blockNumber, @logIndex, @blockTime)
       ON CONFLICT (certification_id) DO NOTHING`,
    ),
    revoke: db.prepare(
      `UPDATE ix_certifications SET revoked = 1, revoked_by = @certifier, revoke_reason_hash = @reasonHash,
         revoked_tx_hash = @txHash, revoked_block_number = @blockNumber, revoked_log_index = @logIndex,
         revoked_block_time = @blockTime
       WHERE certification_id = @certificationId`,
    ),
  };
  return {
    BatchEvent(a, f) {
      q.batchEvent.run({
        ...f,
        batchId: str(a, "batchId"),
        bizStep: str(a, "bizStep"),
        location: str(a, "location"),
        eventTime: num(a, "eventTime"),
        documentHash: str(a, "documentHash"),
        recordedBy: str(a, "recordedBy"),
      });
    },
    BatchCertified(a, f) {
      q.certify.run({
        ...f,
        certificationId: num(a, "certificationId"),
        batchId: str(a, "batchId"),
        certifier: str(a, "certifier"),
        scheme: str(a, "scheme"),
        certificateHash: str(a, "certificateHash"),
        validUntil: str(a, "validUntil"),
      });
    },
    CertificationRevoked(a, f) {
      q.revoke.run({
        ...f,
        certificationId: num(a, "certificationId"),
        certifier: str(a, "certifier"),
        reasonHash: str(a, "reasonHash"),
      });
    },
  };
}

/**
 * SaleEscrow, the life of a sale. Every sale event is a step of the sale's history (ix_sale_steps);
 * each entry below names that step and changes the sale, returning who took the step (null: nobody
 * in particular, as for a release anyone may trigger).
 */
function saleHandlers(db: Db): Record<string, Handler> {
  const q = {
    sale: db.prepare(
      `INSERT INTO ix_sales (sale_id, batch_id, cooperative_id, seller, buyer, token, price, quantity, fee_bps, reserve_bps,
         shipping_period, dispute_window, state, tx_hash, block_number, log_index, block_time)
       VALUES (@saleId, @batchId, @cooperativeId, @seller, @buyer, @token, @price, @quantity, @feeBps, @reserveBps,
         @shippingPeriod, @disputeWindow, 'Created', @txHash, @blockNumber, @logIndex, @blockTime)
       ON CONFLICT (sale_id) DO NOTHING`,
    ),
    saleState: db.prepare<[number], { state: SaleState; seller: string }>(
      `SELECT state, seller FROM ix_sales WHERE sale_id = ?`,
    ),
    setState: db.prepare(`UPDATE ix_sales SET state = ? WHERE sale_id = ?`),
    funded: db.prepare(
      `UPDATE ix_sales SET state = 'Funded', buyer = @buyer, funded_amount = @amount, funded_at = @blockTime, ship_by = @shipBy
       WHERE sale_id = @saleId`,
    ),
    shipped: db.prepare(
      `UPDATE ix_sales SET state = 'Shipped', shipped_at = @blockTime, shipment_document_hash = @documentHash,
         dispute_until = @disputeUntil
       WHERE sale_id = @saleId`,
    ),
    step: db.prepare(
      `INSERT OR REPLACE INTO ix_sale_steps (sale_id, step, actor, tx_hash, block_number, log_index, block_time)
       VALUES (@saleId, @step, @actor, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
    release: db.prepare(
      `INSERT OR REPLACE INTO ix_releases (sale_id, batch_id, token, gross, fee, reserve, net, released_total,
         tx_hash, block_number, log_index, block_time)
       VALUES (@saleId, @batchId, @token, @gross, @fee, @reserve, @net, @releasedTotal, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
    refund: db.prepare(
      `INSERT OR REPLACE INTO ix_refunds (sale_id, buyer, token, amount, tx_hash, block_number, log_index, block_time)
       VALUES (@saleId, @buyer, @token, @amount, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
    disputeOpen: db.prepare(
      `INSERT OR REPLACE INTO ix_disputes (sale_id, buyer, reason_hash, tx_hash, block_number, log_index, block_time)
       VALUES (@saleId, @buyer, @reasonHash, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
    disputeResolve: db.prepare(
      `UPDATE ix_disputes SET arbiter = @arbiter, refund_bps = @refundBps, ruling_hash = @rulingHash,
         resolved_tx_hash = @txHash, resolved_block_number = @blockNumber, resolved_log_index = @logIndex,
         resolved_block_time = @blockTime
       WHERE sale_id = @saleId`,
    ),
  };
  const steps: Record<string, [step: string, change: SaleStep]> = {
    SaleCreated: [
      "created",
      (saleId, a, f) => {
        q.sale.run({
          ...f,
          saleId,
          batchId: str(a, "batchId"),
          cooperativeId: num(a, "cooperativeId"),
          seller: str(a, "seller"),
          buyer: str(a, "buyer"),
          token: str(a, "token"),
          price: str(a, "price"),
          quantity: str(a, "quantity"),
          feeBps: num(a, "feeBps"),
          reserveBps: num(a, "reserveBps"),
          shippingPeriod: num(a, "shippingPeriod"),
          disputeWindow: num(a, "disputeWindow"),
        });
        return str(a, "seller");
      },
    ],
    SaleFunded: [
      "funded",
      (saleId, a, f) => {
        q.funded.run({ ...f, saleId, buyer: str(a, "buyer"), amount: str(a, "amount"), shipBy: num(a, "shipBy") });
        return str(a, "buyer");
      },
    ],
    SaleShipped: [
      "shipped",
      (saleId, a, f) => {
        q.shipped.run({ ...f, saleId, documentHash: str(a, "documentHash"), disputeUntil: num(a, "disputeUntil") });
        return q.saleState.get(saleId)?.seller ?? null;
      },
    ],
    DeliveryConfirmed: [
      "confirmed",
      (saleId, a) => {
        q.setState.run("Released", saleId);
        return str(a, "buyer");
      },
    ],
    SaleReleased: [
      "released",
      (saleId, a, f) => {
        // After a confirmation the state is already Released; after a resolution it stays Resolved.
        if (q.saleState.get(saleId)?.state === "Shipped") q.setState.run("Released", saleId);
        q.release.run({
          ...f,
          saleId,
          batchId: str(a, "batchId"),
          token: str(a, "token"),
          gross: str(a, "gross"),
          fee: str(a, "fee"),
          reserve: str(a, "reserve"),
          net: str(a, "net"),
          releasedTotal: str(a, "releasedTotal"),
        });
        return null;
      },
    ],
    SaleRefunded: [
      "refunded",
      (saleId, a, f) => {
        q.refund.run({ ...f, saleId, buyer: str(a, "buyer"), token: str(a, "token"), amount: str(a, "amount") });
        return str(a, "buyer");
      },
    ],
    SaleCancelled: [
      "cancelled",
      (saleId, a) => {
        // A Created offer is withdrawn; a Funded sale is refunded (SaleRefunded follows).
        q.setState.run(q.saleState.get(saleId)?.state === "Funded" ? "Refunded" : "Cancelled", saleId);
        return str(a, "by");
      },
    ],
    DisputeOpened: [
      "disputed",
      (saleId, a, f) => {
        q.setState.run("Disputed", saleId);
        q.disputeOpen.run({ ...f, saleId, buyer: str(a, "buyer"), reasonHash: str(a, "reasonHash") });
        return str(a, "buyer");
      },
    ],
    DisputeResolved: [
      "resolved",
      (saleId, a, f) => {
        q.setState.run("Resolved", saleId);
        const resolution = {
          arbiter: str(a, "arbiter"),
          refundBps: num(a, "refundBps"),
          rulingHash: str(a, "rulingHash"),
        };
        q.disputeResolve.run({ ...f, saleId, ...resolution });
        return resolution.arbiter;
      },
    ],
  };
  return withSteps(q.step, steps);
}

type SaleStep = (saleId: number, a: Args, f: ChainFacts) => string | null;

/** Handlers that make each sale event's change, then record it as the step it names, with its actor. */
function withSteps(
  stepStatement: Statement,
  steps: Record<string, [step: string, change: SaleStep]>,
): Record<string, Handler> {
  return Object.fromEntries(
    Object.entries(steps).map(([event, [step, change]]): [string, Handler] => [
      event,
      (a, f) => {
        const saleId = num(a, "saleId");
        const actor = change(saleId, a, f);
        stepStatement.run({ ...f, saleId, step, actor });
      },
    ]),
  );
}

/** SaleEscrow, money leaving: members' claims, withdrawals, and cooperatives' reserve withdrawals. */
function payoutHandlers(db: Db): Record<string, Handler> {
  const q = {
    claim: db.prepare(
      `INSERT OR REPLACE INTO ix_claims (batch_id, token, account, amount, weight, tx_hash, block_number, log_index, block_time)
       VALUES (@batchId, @token, @account, @amount, @weight, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
    withdrawal: db.prepare(
      `INSERT OR REPLACE INTO ix_withdrawals (token, account, amount, tx_hash, block_number, log_index, block_time)
       VALUES (@token, @account, @amount, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
    reserveWithdrawal: db.prepare(
      `INSERT OR REPLACE INTO ix_reserve_withdrawals (cooperative_id, token, recipient, amount, tx_hash, block_number, log_index, block_time)
       VALUES (@cooperativeId, @token, @to, @amount, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
  };
  return {
    Claimed(a, f) {
      q.claim.run({
        ...f,
        batchId: str(a, "batchId"),
        token: str(a, "token"),
        account: str(a, "account"),
        amount: str(a, "amount"),
        weight: str(a, "weight"),
      });
    },
    Withdrawn(a, f) {
      q.withdrawal.run({ ...f, token: str(a, "token"), account: str(a, "account"), amount: str(a, "amount") });
    },
    ReserveWithdrawn(a, f) {
      q.reserveWithdrawal.run({
        ...f,
        cooperativeId: num(a, "cooperativeId"),
        token: str(a, "token"),
        to: str(a, "to"),
        amount: str(a, "amount"),
      });
    },
  };
}
