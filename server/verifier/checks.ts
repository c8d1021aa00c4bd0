/**
 * The checks: pure functions from a Snapshot (chain facts read at one block) to pass/fail results
 * with human-readable details. The contract rules they restate come from the shared helpers in
 * domain/contributors.ts and domain/split.ts (Merkle commitment, merge rule, revenue split, member share).
 */
import { toDecimalString } from "../../domain/money";
import { formatUnits } from "../chain/units";
import { mergeContributors, type ContributorTree } from "../../domain/contributors";
import { shareOf, splitRevenue } from "../../domain/split";
import { batchIdOf } from "../../domain/batchId";

export { batchIdOf };
import {
  CONTRACT_NAMES,
  contributorSource,
  type LogRef,
  type MergeEvent,
  type OnChainBatch,
  type Registration,
  type SaleFacts,
  type Snapshot,
  type SplitEvent,
  treeOfContributors,
} from "./collect";

export const SECTIONS = [
  "deployment",
  "batch",
  "contributors",
  "history",
  "certifications",
  "lineage",
  "sales",
  "shares",
  "money",
] as const;
export type Section = (typeof SECTIONS)[number];

export interface Check {
  id: string;
  section: Section;
  title: string;
  ok: boolean;
  details: string[];
}

import { SALE_STATES } from "../../domain/saleStates";

export { SALE_STATES };

const BPS = 10_000n;

export function shortId(id: string): string {
  return `${id.slice(0, 10)}…${id.slice(-4)}`;
}

export function isoTime(seconds: bigint | number): string {
  const ms = Number(seconds) * 1000;
  if (!Number.isFinite(ms) || ms > 8.64e15) return `${seconds} (unix seconds)`;
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

function at(ref: LogRef): string {
  return `block ${ref.blockNumber}, tx ${ref.txHash}`;
}

function pct(bps: bigint): string {
  return `${(Number(bps) / 100).toFixed(2)}%`;
}

/** An amount in a token, with its decimals when known. */
export function amountOf(snap: Pick<Snapshot, "tokens">, token: string, value: bigint): string {
  const info = snap.tokens[token];
  if (info === undefined || info.decimals === null) return `${value} (base units of ${token})`;
  return `${formatUnits(value, info.decimals)} ${info.symbol}`;
}

function tokenName(snap: Pick<Snapshot, "tokens">, token: string): string {
  return snap.tokens[token]?.symbol ?? token;
}

/** A batch as "LOT (0x12345678…abcd)". */
function nameOf(snap: Snapshot, id: string): string {
  const reg = snap.registrations[id];
  return reg ? `${reg.info.lotCode} (${shortId(id)})` : shortId(id);
}

/** Product fields of a batch: its own, or for a split child its ancestor's. */
export function effectiveInfo(snap: Snapshot, batchId: string): Registration["info"] | null {
  const reg = snap.registrations[batchId];
  if (!reg) return null;
  if (reg.contributors.length > 0) return reg.info;
  const source = contributorSource(snap, batchId);
  if (!source) return reg.info;
  const a = source.registration.info;
  return {
    ...reg.info,
    productCode: a.productCode,
    gtin: a.gtin,
    unit: a.unit,
    origin: a.origin,
    productionDate: a.productionDate,
  };
}

type AddCheck = (section: Section, id: string, title: string, ok: boolean, details?: string[]) => void;

/** What every check of a found batch reads: the snapshot, the batch, its lineage, and where results go. */
interface BatchScope {
  snap: Snapshot;
  add: AddCheck;
  batchId: string;
  reg: Registration;
  /** getBatch at the snapshot block: null when it reverted. */
  chain: OnChainBatch | null | undefined;
  /** The batch's product fields (a split child's come from its ancestor). */
  info: Registration["info"];
  /** The merge that made the batch, if any. */
  made: MergeEvent | undefined;
  /** Splits of the batch, and merges that drew from it. */
  splitsOut: SplitEvent[];
  mergesOut: MergeEvent[];
}

export function runChecks(snap: Snapshot): Check[] {
  const checks: Check[] = [];
  const add: AddCheck = (section, id, title, ok, details = []) => checks.push({ id, section, title, ok, details });
  if (!checkDeployment(snap, add)) return checks;
  if (snap.batchId === null) {
    checkMissingBatch(snap, add);
    return checks;
  }
  const batchId = snap.batchId;
  const scope: BatchScope = {
    snap,
    add,
    batchId,
    reg: snap.registrations[batchId],
    chain: snap.onChain[batchId],
    info: effectiveInfo(snap, batchId)!,
    made: snap.merges.find((m) => m.batchId === batchId),
    splitsOut: snap.splits.filter((s) => s.parentId === batchId),
    mergesOut: snap.merges.filter((m) => m.inputs.some((x) => x.batchId === batchId)),
  };
  checkBatch(scope);
  const tree = checkCommitment(scope);
  if (scope.made !== undefined) checkMergeRule(scope, scope.made);
  checkHistory(scope);
  checkCertifications(scope);
  checkLineage(scope);
  checkMassBalance(scope);
  for (const sale of snap.sales) checkSale(scope, sale);
  const releasedTotals = checkReleasedTotals(scope);
  if (snap.sales.length === 0) add("sales", "none", "no sales of this batch", true);
  if (tree !== null) checkShares(scope, tree, releasedTotals);
  if (tree !== null) checkMoney(scope, tree, releasedTotals);
  return checks;
}

/**
 * The money of the lot's cooperative: a closure booked exactly what rounding left (released − the
 * members' shares) and the escrow says so; each payout's stored status is the one its events tell; and
 * the reconciliation of this lot's members (entitled from every batch the cooperative sold, paid,
 * confirmed, contested, outstanding) recomputed from the chain.
 */
function checkMoney({ snap, add }: BatchScope, tree: ContributorTree, releasedTotals: Map<string, bigint>): void {
  const money = snap.money;
  if (money === undefined) return;
  for (const c of money.closures) {
    const released = releasedTotals.get(c.token) ?? 0n;
    const owed = tree.contributors.reduce((a, x) => a + shareOf(released, x.weight, tree.totalWeight), 0n);
    const problems: string[] = [];
    if (c.roundedOff !== released - owed)
      problems.push(`BatchClosed says ${c.roundedOff}, released − shares is ${released - owed}`);
    if (c.view !== c.roundedOff) problems.push(`escrow.roundedOff() says ${c.view ?? "nothing"}`);
    add(
      "money",
      `closed-${tokenName(snap, c.token)}`,
      `lot closed at ${at(c.ref)}: ${amountOf(snap, c.token, c.roundedOff)} left by rounding went to the cooperative's reserve`,
      problems.length === 0,
      problems,
    );
  }
  const mismatched = money.payouts.filter((p) => p.storedStatus !== p.status);
  add(
    "money",
    "payouts",
    `${money.payouts.length} payout${money.payouts.length === 1 ? "" : "s"} recorded by the cooperative; each one's status in the ledger is the one its events tell`,
    mismatched.length === 0,
    [
      ...money.payouts.map(
        (p) => `${p.member} ${p.method} ${p.purpose}: ${p.dirhams} centimes of dirham, ${p.status} (${at(p.ref)})`,
      ),
      ...mismatched.map((p) => `${p.id}: the ledger stores ${p.storedStatus ?? "nothing"}, its events say ${p.status}`),
    ],
  );
  const members = new Set(tree.contributors.map((x) => x.account.toLowerCase()));
  const rows = money.rows.filter((r) => members.has(r.member.toLowerCase()));
  const confirmed = rows.filter((r) => r.confirmed > 0n).length;
  add(
    "money",
    "reconciliation",
    `this lot's ${members.size} members: ${confirmed} confirmed receiving a payout; what remains to be paid is recomputed from the chain`,
    true,
    rows.map((r) => {
      const t = money.currencies[r.token];
      const m = (v: bigint) => (t?.code ? `${t.code} ${toDecimalString(v, t.decimals)}` : amountOf(snap, r.token, v));
      return `${r.member}: entitled ${m(r.entitled)}, paid ${m(r.paid)}, confirmed ${m(r.confirmed)}, contested ${m(r.contested)}, outstanding ${m(r.outstanding)}`;
    }),
  );
}

/** The quantity a merge drew from `batchId` (one of its inputs). */
function drawnBy(merge: MergeEvent, batchId: string): bigint {
  return merge.inputs.find((x) => x.batchId === batchId)!.quantity;
}

/** The node is the chain of the deployment file, and the contracts are there. False: nothing else can be checked. */
function checkDeployment(snap: Snapshot, add: AddCheck): boolean {
  const d = snap.deployment;
  add(
    "deployment",
    "chain-id",
    `chain id ${snap.nodeChainId} ${snap.nodeChainId === d.chainId ? "matches" : "does not match"} the deployment file`,
    snap.nodeChainId === d.chainId,
    [`node ${snap.rpcUrl}: chain ${snap.nodeChainId}; ${d.source}: chain ${d.chainId}`],
  );
  if (snap.nodeChainId !== d.chainId) return false;
  const missing = CONTRACT_NAMES.filter((n) => !snap.codeSize[n]);
  add(
    "deployment",
    "contract-code",
    missing.length === 0
      ? "the four contracts have code at the deployment addresses"
      : missing.map((n) => `no code at ${d.contracts[n].address} (${n})`).join("; "),
    missing.length === 0,
    CONTRACT_NAMES.map((n) =>
      snap.codeSize[n]
        ? `${n} ${d.contracts[n].address}: ${snap.codeSize[n]} bytes (deployed in block ${d.contracts[n].blockNumber})`
        : `no code at ${d.contracts[n].address} (${n}) in block ${snap.block}`,
    ),
  );
  return missing.length === 0;
}

/** No registration found: say why (no match, several matches, or an id the log does not know). */
function checkMissingBatch(snap: Snapshot, add: AddCheck): void {
  if (snap.target.kind === "digitalLink") {
    const what = `GTIN ${snap.target.gtin} and lot "${snap.target.lot}"`;
    add(
      "batch",
      "exists",
      snap.candidates.length === 0
        ? `no batch registered with ${what}`
        : `${snap.candidates.length} batches match ${what}: give a batch id`,
      false,
      snap.candidates.map((c) => `candidate ${c}`),
    );
  } else {
    const onChain = Object.values(snap.onChain)[0];
    add("batch", "exists", "no BatchRegistered event for this batch id", false, [
      onChain ? "yet getBatch answers for it: the event log and the state disagree" : "getBatch reverts: unknown batch",
    ]);
  }
}

/** The registration, its id, getBatch against it, and the cooperative. */
function checkBatch({ snap, add, batchId, reg, chain, info }: BatchScope): void {
  add("batch", "exists", `batch ${info.lotCode} is registered (BatchRegistered)`, true, [
    `batch id ${batchId}`,
    `product ${info.productCode}${info.gtin > 0n ? `, GTIN ${info.gtin.toString().padStart(14, "0")}` : ""}, lot ${info.lotCode}`,
    `quantity ${reg.info.quantity} ${info.unit}, origin ${info.origin || "—"}, produced ${isoTime(info.productionDate)}`,
    `registered by ${reg.registeredBy} in ${at(reg.ref)}`,
  ]);
  const expectedId = batchIdOf(reg.cooperativeId, reg.info.lotCode);
  add(
    "batch",
    "id",
    "the batch id is keccak256(abi.encode(cooperativeId, lotCode))",
    expectedId === batchId,
    expectedId === batchId ? [] : [`expected ${expectedId}`],
  );
  if (chain === null || chain === undefined) {
    add("batch", "state", "getBatch reverts although the batch was registered", false);
  } else {
    const fields: [string, unknown, unknown][] = [
      ["cooperativeId", reg.cooperativeId, chain.cooperativeId],
      ["quantity", reg.info.quantity, chain.quantity],
      ["contributorsRoot", reg.contributorsRoot, chain.contributorsRoot],
      ["totalWeight", reg.totalWeight, chain.totalWeight],
    ];
    const bad = fields.filter(([, a, b]) => String(a) !== String(b));
    add(
      "batch",
      "state",
      bad.length === 0
        ? "getBatch agrees with the registration (cooperative, quantity, root, total weight)"
        : "getBatch disagrees with the registration",
      bad.length === 0,
      fields.map(([f, a, b]) => `${f}: event ${a}, getBatch ${b}${String(a) === String(b) ? "" : "  ← differs"}`),
    );
  }
  const coop = snap.cooperative;
  add(
    "batch",
    "cooperative",
    coop ? `cooperative #${reg.cooperativeId}: ${coop.name}` : `cooperative #${reg.cooperativeId} not found`,
    coop !== null,
    coop
      ? [
          `region ${coop.region}, registration ${coop.registrationNumber}${coop.womenLed ? ", women's cooperative" : ""}`,
          `${coop.memberCount} members, reserve rate ${pct(coop.reserveBps)}, admin ${coop.admin}`,
        ]
      : [],
  );
}

/**
 * The contributors' commitment: the Merkle root and total weight recomputed from the emitted list
 * match what was emitted and what is stored. Returns the recomputed tree (null: no list found).
 */
function checkCommitment({ snap, add, batchId, reg, chain }: BatchScope): ContributorTree | null {
  const source = contributorSource(snap, batchId);
  if (source === null) {
    add("contributors", "commitment", "cannot find the emitted contributor list of this batch", false);
    return null;
  }
  const tree = treeOfContributors(source.contributors);
  const emittedOrder = source.contributors.map((x) => x.account).join(",");
  const sortedOrder = tree.contributors.map((x) => x.account).join(",");
  const src = source.registration;
  const rows: [string, string, string][] = [
    ["root emitted with the list", src.contributorsRoot, tree.root],
    ["total weight emitted with the list", String(src.totalWeight), String(tree.totalWeight)],
  ];
  if (source.via.length > 0) {
    rows.push(["root emitted for this batch", reg.contributorsRoot, tree.root]);
    rows.push(["total weight emitted for this batch", String(reg.totalWeight), String(tree.totalWeight)]);
  }
  if (chain) {
    rows.push(["root stored on-chain", chain.contributorsRoot, tree.root]);
    rows.push(["total weight stored on-chain", String(chain.totalWeight), String(tree.totalWeight)]);
  }
  const bad = rows.filter(([, a, b]) => a.toLowerCase() !== b.toLowerCase());
  const ordered = emittedOrder === sortedOrder;
  add(
    "contributors",
    "commitment",
    bad.length === 0 && ordered
      ? `the Merkle root recomputed from the ${tree.contributors.length} emitted contributors matches`
      : "the contributors commitment does not match the emitted list",
    bad.length === 0 && ordered,
    [
      source.via.length > 0
        ? `list emitted by ${nameOf(snap, src.batchId)} at its registration (${at(src.ref)}); this batch shares it through split of ${source.via.map((v) => nameOf(snap, v)).join(" ← ")}`
        : `list emitted at registration (${at(src.ref)})`,
      `recomputed root ${tree.root}, total weight ${tree.totalWeight}`,
      ...(ordered ? [] : ["the emitted list is not in ascending account index order"]),
      ...bad.map(([what, claimed, computed]) => `${what}: ${claimed}, recomputed ${computed}  ← differs`),
      ...tree.contributors.map((x) => `${x.account} weight ${x.weight}`),
    ],
  );
  return tree;
}

/** A merged batch's contributors are what the merge rule gives from its parents' lists and draws. */
function checkMergeRule({ snap, add, reg }: BatchScope, made: MergeEvent): void {
  const details: string[] = [];
  let ok = true;
  const inputs = made.inputs.map((input) => {
    const src = contributorSource(snap, input.batchId);
    const onChain = snap.onChain[input.batchId];
    if (src === null || !onChain) {
      ok = false;
      details.push(`parent ${nameOf(snap, input.batchId)}: contributor list or state not found`);
      return { contributors: [], totalWeight: 1n, drawn: input.quantity };
    }
    const t = treeOfContributors(src.contributors);
    const rootOk = t.root === onChain.contributorsRoot && t.totalWeight === onChain.totalWeight;
    ok &&= rootOk;
    details.push(
      `parent ${nameOf(snap, input.batchId)}: drew ${input.quantity}, ${t.contributors.length} contributors, total weight ${t.totalWeight}${rootOk ? "" : "  ← its root does not match its emitted list"}`,
    );
    return { contributors: src.contributors, totalWeight: t.totalWeight, drawn: input.quantity };
  });
  const expected = ok ? mergeContributors(inputs) : [];
  const emitted = reg.contributors;
  const byAccount = new Map(emitted.map((x) => [x.account, x.weight]));
  const diffs: string[] = [];
  for (const e of expected) {
    const w = byAccount.get(e.account);
    if (w !== e.weight) diffs.push(`${e.account}: rule gives ${e.weight}, emitted ${w ?? "nothing"}`);
  }
  const expectedSet = new Set(expected.map((e) => e.account));
  for (const e of emitted)
    if (!expectedSet.has(e.account)) diffs.push(`${e.account}: emitted ${e.weight}, rule gives nothing`);
  if (ok && diffs.length === 0 && emitted.some((e, i) => i > 0 && e.index <= emitted[i - 1].index)) {
    diffs.push("same weights but not in ascending account index order");
  }
  ok &&= diffs.length === 0;
  add(
    "contributors",
    "merge-rule",
    ok
      ? `merge output: the ${emitted.length} contributors follow the merge rule from ${made.inputs.length} parents`
      : "merge output: the contributors do not follow the merge rule",
    ok,
    [`merged in ${at(made.ref)} by ${made.mergedBy}`, ...details, ...diffs],
  );
}

/** The lifecycle events, in event-time order (informative: always passes). */
function checkHistory({ snap, add }: BatchScope): void {
  const events = [...snap.events].sort((a, b) =>
    a.eventTime === b.eventTime ? 0 : a.eventTime < b.eventTime ? -1 : 1,
  );
  add(
    "history",
    "events",
    `${events.length} lifecycle event${events.length === 1 ? "" : "s"} recorded (BatchEvent)`,
    true,
    events.map(
      (e) =>
        `${isoTime(e.eventTime)}  ${e.bizStep}${e.location ? ` @ ${e.location}` : ""}  by ${e.recordedBy}  (${at(e.ref)})`,
    ),
  );
}

/** Each certification: its events agree with getCertification and isCertificationValid. */
function checkCertifications({ snap, add, batchId }: BatchScope): void {
  if (snap.certifications.length === 0) add("certifications", "none", "no certifications", true);
  for (const cert of snap.certifications) {
    const problems: string[] = [];
    const o = cert.onChain;
    if (o === null) problems.push("getCertification reverts");
    else {
      if (o.batchId !== batchId) problems.push(`getCertification names batch ${o.batchId}`);
      if (o.certifier !== cert.certifier) problems.push(`certifier: event ${cert.certifier}, state ${o.certifier}`);
      if (o.validUntil !== cert.validUntil)
        problems.push(`validUntil: event ${cert.validUntil}, state ${o.validUntil}`);
      if (o.revoked !== (cert.revocation !== null)) {
        problems.push(`revoked: state ${o.revoked}, revocation event ${cert.revocation ? "present" : "absent"}`);
      }
    }
    if (cert.revocation !== null && cert.validNow === true) problems.push("revoked yet isCertificationValid is true");
    const status = cert.revocation
      ? `REVOKED (${at(cert.revocation.ref)})`
      : cert.validNow
        ? `valid until ${isoTime(cert.validUntil)}`
        : `EXPIRED (valid until ${isoTime(cert.validUntil)})`;
    add(
      "certifications",
      `certification-${cert.certificationId}`,
      `certification #${cert.certificationId} "${cert.scheme}": ${status}`,
      problems.length === 0,
      [`by ${cert.certifier} in ${at(cert.ref)}, certificate hash ${cert.certificateHash}`, ...problems],
    );
  }
}

/** Parents and children exist on-chain with the quantities the splits and merges drew. */
function checkLineage({ snap, add, batchId, reg, info, made, splitsOut, mergesOut }: BatchScope): void {
  const lineage: string[] = [];
  let lineageOk = true;
  const splitFrom = snap.splits.find((s) => s.childIds.includes(batchId));
  if (splitFrom) {
    const i = splitFrom.childIds.indexOf(batchId);
    lineage.push(
      `parent (split): ${nameOf(snap, splitFrom.parentId)}, ${splitFrom.quantities[i]} ${info.unit}, ${at(splitFrom.ref)}`,
    );
    if (splitFrom.quantities[i] !== reg.info.quantity) {
      lineageOk = false;
      lineage.push(`  split quantity ${splitFrom.quantities[i]} ≠ registered quantity ${reg.info.quantity}`);
    }
  }
  if (made) {
    for (const input of made.inputs) {
      lineage.push(`parent (merge): ${nameOf(snap, input.batchId)}, ${input.quantity} drawn, ${at(made.ref)}`);
      if (!snap.onChain[input.batchId]) {
        lineageOk = false;
        lineage.push("  the parent does not exist on-chain");
      }
    }
  }
  for (const s of splitsOut) {
    s.childIds.forEach((child, i) => {
      const q = s.quantities[i];
      const childChain = snap.onChain[child];
      const childReg = snap.registrations[child];
      const good = !!childChain && childChain.quantity === q && childReg?.info.quantity === q;
      lineageOk &&= good;
      lineage.push(
        `child (split): ${nameOf(snap, child)}, ${q} ${info.unit}, ${at(s.ref)}${good ? "" : "  ← missing or quantity differs"}`,
      );
    });
  }
  for (const m of mergesOut) {
    const good = !!snap.onChain[m.batchId];
    lineageOk &&= good;
    lineage.push(
      `child (merge): ${nameOf(snap, m.batchId)}, ${drawnBy(m, batchId)} ${info.unit} drawn, ${at(m.ref)}${good ? "" : "  ← missing"}`,
    );
  }
  const links = lineage.filter((l) => !l.startsWith(" ")).length;
  add(
    "lineage",
    "lineage",
    links === 0
      ? "no parents and no children"
      : `${links} lineage link${links === 1 ? "" : "s"}: ${lineageOk ? "parents and children exist with the quantities drawn" : "a parent or child is missing or differs"}`,
    lineageOk,
    lineage,
  );
}

/** Mass balance: draws by splits, merges and sales (minus restores) = drawn ≤ quantity. */
function checkMassBalance({ snap, add, batchId, reg, chain, info, splitsOut, mergesOut }: BatchScope): void {
  type Draw = { ref: LogRef; amount: bigint; what: string; reported?: bigint };
  const draws: Draw[] = [
    ...splitsOut.map((s) => ({ ref: s.ref, amount: s.quantities.reduce((a, b) => a + b, 0n), what: "split" })),
    ...mergesOut.map((m) => ({ ref: m.ref, amount: drawnBy(m, batchId), what: "merge" })),
    ...snap.quantityChanges.map((q) => ({
      ref: q.ref,
      amount: q.kind === "drawn" ? q.quantity : -q.quantity,
      what: q.kind === "drawn" ? "sale draw" : "sale restore",
      reported: q.drawnTotal,
    })),
  ].sort((a, b) => a.ref.blockNumber - b.ref.blockNumber || a.ref.logIndex - b.ref.logIndex);
  const problems: string[] = [];
  let running = 0n;
  for (const dr of draws) {
    running += dr.amount;
    if (dr.reported !== undefined && dr.reported !== running) {
      problems.push(`${dr.what} in ${at(dr.ref)} reports drawn total ${dr.reported}, the sum so far is ${running}`);
    }
  }
  const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
  const bySplits = sum(splitsOut.flatMap((s) => s.quantities));
  const byMerges = sum(mergesOut.map((m) => drawnBy(m, batchId)));
  const bySales = sum(snap.quantityChanges.filter((q) => q.kind === "drawn").map((q) => q.quantity));
  const restored = sum(snap.quantityChanges.filter((q) => q.kind === "restored").map((q) => q.quantity));
  const offered = sum(snap.sales.map((s) => s.created.quantity));
  const cancelled = sum(snap.sales.filter((s) => s.cancelled !== null).map((s) => s.created.quantity));
  if (offered !== bySales) problems.push(`sales offered ${offered} but QuantityDrawn sums to ${bySales}`);
  if (cancelled !== restored)
    problems.push(`cancelled sales hold ${cancelled} but QuantityRestored sums to ${restored}`);
  const drawn = chain?.drawn ?? -1n;
  const quantity = chain?.quantity ?? reg.info.quantity;
  if (running !== drawn) problems.push(`the draws sum to ${running}, getBatch says drawn ${drawn}`);
  if (drawn > quantity) problems.push(`drawn ${drawn} exceeds the quantity ${quantity}`);
  add(
    "lineage",
    "mass-balance",
    problems.length === 0
      ? `mass balance holds: drawn ${drawn} ≤ quantity ${quantity} ${info.unit} (available ${quantity - drawn})`
      : "mass balance does not hold",
    problems.length === 0,
    [
      `splits ${bySplits} + merges ${byMerges} + sales ${bySales} − restored ${restored} = ${bySplits + byMerges + bySales - restored}; getBatch drawn ${drawn}`,
      ...problems,
    ],
  );
}

/** One sale: its events agree with getSale, its reserve rate with the cooperative's, its release with the split rule. */
function checkSale({ snap, add, batchId, info }: BatchScope, sale: SaleFacts): void {
  const s = sale.created;
  const o = sale.onChain;
  const problems: string[] = [];
  const lines: string[] = [];
  const state = o ? (SALE_STATES[o.state] ?? `state ${o.state}`) : "unknown";
  lines.push(
    `${s.quantity} ${info.unit} for ${amountOf(snap, s.token, s.price)}, ${s.buyer === "0x0000000000000000000000000000000000000000" ? "open offer" : `buyer ${s.buyer}`}; created in ${at(s.ref)}`,
  );
  lines.push(`fee ${pct(s.feeBps)}, reserve ${pct(s.reserveBps)}; state ${state}`);
  if (o === null) problems.push("getSale reverts");
  else {
    const fields: [string, unknown, unknown][] = [
      ["batchId", s.batchId, o.batchId],
      ["cooperativeId", s.cooperativeId, o.cooperativeId],
      ["seller", s.seller, o.seller],
      ["token", s.token, o.token],
      ["price", s.price, o.price],
      ["quantity", s.quantity, o.quantity],
      ["feeBps", s.feeBps, o.feeBps],
      ["reserveBps", s.reserveBps, o.reserveBps],
    ];
    for (const [f, a, b] of fields) if (String(a) !== String(b)) problems.push(`${f}: SaleCreated ${a}, getSale ${b}`);
  }
  const rate = [...snap.reserveHistory]
    .reverse()
    .find(
      (h) =>
        h.ref.blockNumber < s.ref.blockNumber ||
        (h.ref.blockNumber === s.ref.blockNumber && h.ref.logIndex < s.ref.logIndex),
    );
  if (rate !== undefined && rate.bps !== s.reserveBps) {
    problems.push(
      `reserve rate ${pct(s.reserveBps)} but the cooperative's rate was ${pct(rate.bps)} when the sale was created`,
    );
  }
  const refunded = sale.refunds.reduce((a, r) => a + r.amount, 0n);
  let expectedGross: bigint | null = null;
  if (state === "Released") expectedGross = s.price;
  else if (state === "Resolved" && sale.disputeResolved) {
    const refund = (s.price * sale.disputeResolved.refundBps) / BPS;
    expectedGross = s.price - refund === 0n ? null : s.price - refund;
    if (refunded !== refund) problems.push(`refunded ${refunded}, the ruling gives ${refund}`);
  }
  if (expectedGross === null && sale.releases.length > 0) problems.push(`released although the sale is ${state}`);
  if (expectedGross !== null && sale.releases.length !== 1)
    problems.push(`${sale.releases.length} releases for a ${state} sale`);
  for (const r of sale.releases) {
    const split = splitRevenue(r.gross, s.feeBps, s.reserveBps);
    const sumOk = r.fee + r.reserve + r.net === r.gross;
    const ruleOk = split.fee === r.fee && split.reserve === r.reserve && split.net === r.net;
    lines.push(
      `released in ${at(r.ref)}: gross ${amountOf(snap, r.token, r.gross)} = fee ${amountOf(snap, r.token, r.fee)} + reserve ${amountOf(snap, r.token, r.reserve)} + net ${amountOf(snap, r.token, r.net)}${sumOk ? "" : "  ← does not add up"}`,
    );
    if (!sumOk) problems.push(`fee + reserve + net = ${r.fee + r.reserve + r.net} ≠ gross ${r.gross}`);
    if (!ruleOk) {
      problems.push(
        `the split rule gives fee ${split.fee}, reserve ${split.reserve}, net ${split.net}; released fee ${r.fee}, reserve ${r.reserve}, net ${r.net}`,
      );
    }
    if (expectedGross !== null && r.gross !== expectedGross)
      problems.push(`gross ${r.gross}, expected ${expectedGross}`);
    if (r.token !== s.token) problems.push(`released in ${r.token}, the sale is in ${s.token}`);
    if (r.batchId !== batchId) problems.push(`released for batch ${r.batchId}`);
  }
  for (const r of sale.refunds)
    lines.push(`refunded ${amountOf(snap, s.token, r.amount)} to ${r.buyer} in ${at(r.ref)}`);
  if (sale.disputeOpened) lines.push(`disputed in ${at(sale.disputeOpened.ref)}`);
  if (sale.disputeResolved) {
    lines.push(`dispute resolved: ${pct(sale.disputeResolved.refundBps)} refunded, ${at(sale.disputeResolved.ref)}`);
  }
  add(
    "sales",
    `sale-${s.saleId}`,
    `sale #${s.saleId} (${state}): ${sale.releases.length > 0 ? "gross = fee + reserve + net, split as the rule says" : "nothing released"}`,
    problems.length === 0,
    [...lines, ...problems],
  );
}

/**
 * The batch's cumulative net per token: each release's releasedTotal is the running sum of nets, and
 * escrow.released() agrees. Returns the released total per token (the escrow's, else the sum).
 */
function checkReleasedTotals({ snap, add }: BatchScope): Map<string, bigint> {
  const releasesByToken = new Map<string, Snapshot["sales"][number]["releases"]>();
  for (const r of snap.sales.flatMap((s) => s.releases)) {
    releasesByToken.set(r.token, [...(releasesByToken.get(r.token) ?? []), r]);
  }
  const releasedTotals = new Map<string, bigint>();
  for (const token of new Set([...releasesByToken.keys(), ...Object.keys(snap.released)])) {
    const rs = (releasesByToken.get(token) ?? []).sort(
      (a, b) => a.ref.blockNumber - b.ref.blockNumber || a.ref.logIndex - b.ref.logIndex,
    );
    const problems: string[] = [];
    let running = 0n;
    for (const r of rs) {
      running += r.net;
      if (r.releasedTotal !== running) {
        problems.push(`sale #${r.saleId}: releasedTotal ${r.releasedTotal}, the nets so far sum to ${running}`);
      }
    }
    const view = snap.released[token];
    if (view !== running) problems.push(`escrow.released() says ${view ?? "nothing"}, the releases sum to ${running}`);
    releasedTotals.set(token, view ?? running);
    add(
      "sales",
      `released-${tokenName(snap, token)}`,
      `releasedTotal accumulates: ${amountOf(snap, token, running)} net released in ${tokenName(snap, token)} over ${rs.length} release${rs.length === 1 ? "" : "s"}`,
      problems.length === 0,
      problems,
    );
  }
  return releasedTotals;
}

/** Members' shares: claimed ≤ ⌊releasedTotal × weight / total⌋, and the escrow's views agree. */
function checkShares({ snap, add }: BatchScope, tree: ContributorTree, releasedTotals: Map<string, bigint>): void {
  const total = tree.totalWeight;
  const weights = new Map(tree.contributors.map((x) => [x.account, x.weight]));
  for (const [token, releasedTotal] of releasedTotals) {
    const problems: string[] = [];
    const lines: string[] = [];
    let sumShares = 0n;
    let sumClaimed = 0n;
    const claims = snap.claims.filter((cl) => cl.token === token);
    for (const cl of claims) {
      const w = weights.get(cl.account);
      if (w === undefined) problems.push(`${cl.account} claimed ${cl.amount} but is not a contributor`);
      else if (w !== cl.weight) problems.push(`${cl.account} claimed with weight ${cl.weight}, its weight is ${w}`);
    }
    for (const x of tree.contributors) {
      const share = shareOf(releasedTotal, x.weight, total);
      const claimed = claims.filter((cl) => cl.account === x.account).reduce((a, cl) => a + cl.amount, 0n);
      const claimedView = snap.claimedView[token]?.[x.account];
      const claimableView = snap.claimableView[token]?.[x.account];
      sumShares += share;
      sumClaimed += claimed;
      const bad: string[] = [];
      if (claimed > share) bad.push(`claimed more than its share`);
      if (claimedView !== claimed) bad.push(`escrow.claimed() says ${claimedView ?? "nothing"}`);
      if (claimableView !== share - claimed)
        bad.push(`escrow.claimable() says ${claimableView ?? "nothing"}, expected ${share - claimed}`);
      lines.push(
        `${x.account} weight ${x.weight}/${total}: share ${amountOf(snap, token, share)}, claimed ${amountOf(snap, token, claimed)}, claimable ${amountOf(snap, token, share - claimed)}${bad.length ? "  ← " + bad.join("; ") : ""}`,
      );
      if (bad.length) problems.push(`${x.account}: ${bad.join("; ")}`);
    }
    const dust = releasedTotal - sumShares;
    if (dust < 0n || dust >= BigInt(Math.max(tree.contributors.length, 1))) {
      problems.push(`shares sum to ${sumShares} of ${releasedTotal} released (rounding dust ${dust})`);
    }
    add(
      "shares",
      `shares-${tokenName(snap, token)}`,
      `members' shares in ${tokenName(snap, token)}: ${tree.contributors.length} contributors, ${amountOf(snap, token, sumClaimed)} claimed of ${amountOf(snap, token, releasedTotal)} released`,
      problems.length === 0,
      [...lines, ...problems],
    );
  }
  if (releasedTotals.size === 0) add("shares", "none", "nothing released yet: no member shares to check", true);
}
