/**
 * Gathers, from one node and at one pinned block, every chain fact the checks need about a batch:
 * its registration and on-chain record, the registrations its contributors commitment comes from
 * (split ancestors, merge parents), its lifecycle events, certifications, lineage, quantity draws,
 * sales with their releases and refunds, members' claims and the escrow's views. Nothing here
 * judges: checks.ts does, as pure functions over the Snapshot.
 */
import { readFileSync } from "node:fs";
import { hexToString, numberToHex, pad, type Hex } from "viem";
import { ZERO_ADDRESS as ZeroAddress, toAddress as getAddress } from "../chain/address";
import { CONTRACT_NAMES, type ContractName, type DeploymentFile } from "../chain/deploy";
import {
  batchRegistryAbi,
  cooperativeRegistryAbi,
  erc20MetadataAbi,
  saleEscrowAbi,
  topicOf,
  type ContractAbi as Interface,
  type Result,
} from "./abi";
import { RpcError, mapLimit, type RpcClient, type RpcLog } from "./rpc";
import { UsageError, type Target } from "./target";
import { buildContributorTree, unpackContributor, type ContributorTree } from "../../domain/contributors";
import { wordToText } from "../../domain/words";
import { collectMoney, type MoneyFacts, type MoneyReader } from "./money";

// The names are the deploy path's: the verifier reads the file that path writes.
export { CONTRACT_NAMES, type ContractName };

export interface Deployment {
  /** Where it was read from. */
  source: string;
  chainId: number;
  contracts: Record<ContractName, { address: string; blockNumber: number }>;
}

/** Reads a deployment file (`DATA_DIR/deployments/<chainId>.json`, written by server/chain/deploy.ts). */
export function loadDeployment(file: string): Deployment {
  let parsed: Partial<DeploymentFile>;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`cannot read the deployment file ${file}: ${(err as Error).message}`);
  }
  const contracts = {} as Deployment["contracts"];
  for (const name of CONTRACT_NAMES) {
    const c = parsed.contracts?.[name];
    if (typeof c?.address !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(c.address)) {
      throw new UsageError(`${file}: no address for ${name}`);
    }
    contracts[name] = { address: getAddress(c.address), blockNumber: Number(c.blockNumber ?? 0) };
  }
  if (typeof parsed.chainId !== "number") throw new UsageError(`${file}: no chainId`);
  return { source: file, chainId: parsed.chainId, contracts };
}

export interface LogRef {
  blockNumber: number;
  logIndex: number;
  txHash: string;
  blockHash: string;
}

export interface Contributor {
  account: string;
  weight: bigint;
  /** The account index the packed word names (the account comes from MemberAdded). */
  index: number;
}

/** The commitment of an emitted list, recomputed: ordered by account index, as the contract builds it. */
export function treeOfContributors(list: readonly Contributor[]): ContributorTree {
  const indexOf = new Map(list.map((c) => [c.account, c.index]));
  return buildContributorTree(list, (account) => indexOf.get(account) ?? -1);
}

export interface BatchInfo {
  productCode: string;
  gtin: bigint;
  lotCode: string;
  quantity: bigint;
  unit: string;
  origin: string;
  productionDate: bigint;
  metadataHash: string;
}

export interface Registration {
  batchId: string;
  cooperativeId: bigint;
  registeredBy: string;
  info: BatchInfo;
  contributors: Contributor[];
  contributorsRoot: string;
  totalWeight: bigint;
  ref: LogRef;
}

export interface OnChainBatch {
  cooperativeId: bigint;
  quantity: bigint;
  drawn: bigint;
  totalWeight: bigint;
  contributorsRoot: string;
}

export interface SplitEvent {
  parentId: string;
  splitBy: string;
  childIds: string[];
  quantities: bigint[];
  ref: LogRef;
}

export interface MergeEvent {
  batchId: string;
  mergedBy: string;
  inputs: { batchId: string; quantity: bigint }[];
  ref: LogRef;
}

export interface LifecycleEvent {
  bizStep: string;
  location: string;
  eventTime: bigint;
  documentHash: string;
  recordedBy: string;
  ref: LogRef;
}

export interface CertificationFacts {
  certificationId: bigint;
  certifier: string;
  scheme: string;
  certificateHash: string;
  validUntil: bigint;
  ref: LogRef;
  revocation: { certifier: string; reasonHash: string; ref: LogRef } | null;
  /** getCertification at the snapshot block. */
  onChain: { batchId: string; certifier: string; validUntil: bigint; revoked: boolean } | null;
  /** isCertificationValid at the snapshot block (the chain's own clock). */
  validNow: boolean | null;
}

export interface QuantityChange {
  kind: "drawn" | "restored";
  quantity: bigint;
  drawnTotal: bigint;
  ref: LogRef;
}

export interface SaleCreatedFacts {
  saleId: bigint;
  batchId: string;
  cooperativeId: bigint;
  seller: string;
  buyer: string;
  token: string;
  price: bigint;
  quantity: bigint;
  feeBps: bigint;
  reserveBps: bigint;
  shippingPeriod: bigint;
  disputeWindow: bigint;
  ref: LogRef;
}

export interface ReleaseFacts {
  saleId: bigint;
  batchId: string;
  token: string;
  gross: bigint;
  fee: bigint;
  reserve: bigint;
  net: bigint;
  releasedTotal: bigint;
  ref: LogRef;
}

export interface SaleFacts {
  created: SaleCreatedFacts;
  funded: { buyer: string; amount: bigint; shipBy: bigint; ref: LogRef } | null;
  shipped: { documentHash: string; disputeUntil: bigint; ref: LogRef } | null;
  confirmed: { buyer: string; ref: LogRef } | null;
  cancelled: { by: string; ref: LogRef } | null;
  disputeOpened: { buyer: string; reasonHash: string; ref: LogRef } | null;
  disputeResolved: { arbiter: string; refundBps: bigint; rulingHash: string; ref: LogRef } | null;
  releases: ReleaseFacts[];
  refunds: { buyer: string; amount: bigint; ref: LogRef }[];
  onChain: {
    batchId: string;
    seller: string;
    cooperativeId: bigint;
    feeBps: bigint;
    reserveBps: bigint;
    buyer: string;
    state: number;
    token: string;
    quantity: bigint;
    price: bigint;
  } | null;
}

export interface ClaimFacts {
  token: string;
  account: string;
  amount: bigint;
  weight: bigint;
  ref: LogRef;
}

export interface TokenInfo {
  address: string;
  symbol: string;
  decimals: number | null;
  /** The currency (ISO 4217) the escrow recorded with the token, or null. */
  currency?: string | null;
}

export interface CooperativeFacts {
  name: string;
  region: string;
  registrationNumber: string;
  admin: string;
  reserveBps: bigint;
  womenLed: boolean;
  memberCount: bigint;
}

/** Everything read from the node, at block `block`. */
export interface Snapshot {
  rpcUrl: string;
  nodeChainId: number;
  block: number;
  deployment: Deployment;
  /** Byte length of the code at each deployment address (0: no code). */
  codeSize: Partial<Record<ContractName, number>>;
  target: { input: string; kind: Target["kind"]; gtin?: string; lot?: string };
  /** Batch ids a Digital Link matched (only for Digital Link targets). */
  candidates: string[];
  batchId: string | null;
  /** Registrations of the batch, its split ancestors, merge parents (and their ancestors), children. */
  registrations: Record<string, Registration>;
  /** getBatch of every batch above; null when the call reverted. */
  onChain: Record<string, OnChainBatch | null>;
  /** Splits that created the batch or its ancestors, and splits of the batch. */
  splits: SplitEvent[];
  /** The merge that created the batch (if any), merges that created its parents, and merges that drew from it. */
  merges: MergeEvent[];
  events: LifecycleEvent[];
  certifications: CertificationFacts[];
  quantityChanges: QuantityChange[];
  sales: SaleFacts[];
  claims: ClaimFacts[];
  /** escrow.released(batch, token). */
  released: Record<string, bigint>;
  /** escrow.claimed(batch, token, account) and claimable(batch, token, account, weight), per token then account. */
  claimedView: Record<string, Record<string, bigint>>;
  claimableView: Record<string, Record<string, bigint>>;
  tokens: Record<string, TokenInfo>;
  cooperative: CooperativeFacts | null;
  /** Reserve rate of the batch's cooperative over time (registration, then changes). */
  reserveHistory: { bps: bigint; ref: LogRef }[];
  /** Calls that failed for another reason than a revert, to show in the report. */
  notes: string[];
  /** The money of the batch's cooperative: its closure, its payouts and the reconciliation (money.ts). */
  money?: MoneyFacts;
}

const T = {
  BatchRegistered: topicOf(batchRegistryAbi, "BatchRegistered"),
  BatchSplit: topicOf(batchRegistryAbi, "BatchSplit"),
  BatchesMerged: topicOf(batchRegistryAbi, "BatchesMerged"),
  SaleCreated: topicOf(saleEscrowAbi, "SaleCreated"),
  Claimed: topicOf(saleEscrowAbi, "Claimed"),
  CooperativeRegistered: topicOf(cooperativeRegistryAbi, "CooperativeRegistered"),
  ReserveRateChanged: topicOf(cooperativeRegistryAbi, "ReserveRateChanged"),
  MemberAdded: topicOf(cooperativeRegistryAbi, "MemberAdded"),
};
const SALE_EVENTS = [
  "SaleFunded",
  "SaleShipped",
  "DeliveryConfirmed",
  "SaleReleased",
  "SaleRefunded",
  "SaleCancelled",
  "DisputeOpened",
  "DisputeResolved",
].map((e) => topicOf(saleEscrowAbi, e));

const uintTopic = (n: bigint | number) => pad(numberToHex(n), { size: 32 });
const lower = (s: string) => s.toLowerCase();

function refOf(log: RpcLog): LogRef {
  return {
    blockNumber: Number(BigInt(log.blockNumber)),
    logIndex: Number(BigInt(log.logIndex)),
    txHash: lower(log.transactionHash),
    blockHash: lower(log.blockHash),
  };
}

function byChainOrder(a: { ref: LogRef }, b: { ref: LogRef }): number {
  return a.ref.blockNumber - b.ref.blockNumber || a.ref.logIndex - b.ref.logIndex;
}

function decode(iface: Interface, log: RpcLog) {
  const parsed = iface.parseLog({ topics: log.topics, data: log.data });
  if (parsed === null) return null;
  return { name: parsed.name, args: parsed.args, ref: refOf(log) };
}

/**
 * The account of each index, from the registry's MemberAdded events (an index is given once, when an
 * account first joins a cooperative): contributors are emitted as packed (index, weight) words.
 */
type Accounts = Map<number, string>;

async function loadAccounts(rpc: RpcClient, contracts: Deployment["contracts"], block: number): Promise<Accounts> {
  const registry = contracts.CooperativeRegistry;
  const logs = await rpc.getLogs({ address: registry.address, topics: [T.MemberAdded] }, registry.blockNumber, block);
  const accounts: Accounts = new Map();
  for (const log of logs) {
    const d = decode(cooperativeRegistryAbi, log);
    if (d === null) continue;
    const index = Number(d.args.index as bigint);
    if (!accounts.has(index)) accounts.set(index, getAddress(d.args.member as string));
  }
  return accounts;
}

function registrationOf(args: Result, ref: LogRef, accounts: Accounts): Registration {
  const info = args.info as Result;
  return {
    batchId: lower(args.batchId as string),
    cooperativeId: args.cooperativeId as bigint,
    registeredBy: getAddress(args.registeredBy as string),
    info: {
      productCode: wordToText(info.productCode as string),
      gtin: info.gtin as bigint,
      lotCode: wordToText(info.lotCode as string),
      quantity: info.quantity as bigint,
      unit: wordToText(info.unit as string),
      origin: info.origin as string,
      productionDate: info.productionDate as bigint,
      metadataHash: lower(info.metadataHash as string),
    },
    contributors: (args.contributors as bigint[]).map((word) => {
      const { index, weight } = unpackContributor(word);
      // An index no MemberAdded gave: shown as the zero address (the checks then fail visibly).
      return { account: accounts.get(index) ?? ZeroAddress, weight, index };
    }),
    contributorsRoot: lower(args.contributorsRoot as string),
    totalWeight: args.totalWeight as bigint,
    ref,
  };
}

function splitOf(args: Result, ref: LogRef): SplitEvent {
  return {
    parentId: lower(args.parentId as string),
    splitBy: getAddress(args.splitBy as string),
    childIds: (args.childIds as string[]).map(lower),
    quantities: [...(args.quantities as bigint[])],
    ref,
  };
}

function mergeOf(args: Result, ref: LogRef): MergeEvent {
  return {
    batchId: lower(args.batchId as string),
    mergedBy: getAddress(args.mergedBy as string),
    inputs: (args.inputs as Result[]).map((d) => ({
      batchId: lower(d.batchId as string),
      quantity: d.quantity as bigint,
    })),
    ref,
  };
}

/** Longest chain of splits followed upwards; a deeper one would be a cycle or abuse. */
const MAX_DEPTH = 64;

export interface CollectOptions {
  /** Concurrent eth_call requests. */
  concurrency?: number;
}

/** What every step of a collection shares: the node, the contracts, the pinned block and the snapshot it fills. */
interface Collector {
  rpc: RpcClient;
  contracts: Deployment["contracts"];
  block: number;
  /** Concurrent eth_call requests. */
  concurrency: number;
  snap: Snapshot;
  /** Logs already in snap.splits or snap.merges (`txHash:logIndex`): one log can be reached from several batches. */
  seen: Set<string>;
  /** Account of each index (MemberAdded). */
  accounts: Accounts;
}

type DecodedLog = NonNullable<ReturnType<typeof decode>>;

export async function collect(
  rpc: RpcClient,
  deployment: Deployment,
  target: Target,
  options: CollectOptions = {},
): Promise<Snapshot> {
  const nodeChainId = await rpc.chainId();
  const block = await rpc.blockNumber();
  const snap = emptySnapshot(rpc.url, nodeChainId, block, deployment, target);
  if (nodeChainId !== deployment.chainId) return snap;
  for (const name of CONTRACT_NAMES) {
    const code = await rpc.getCode(deployment.contracts[name].address, block);
    snap.codeSize[name] = code === "0x" ? 0 : (code.length - 2) / 2;
  }
  if (CONTRACT_NAMES.some((n) => snap.codeSize[n] === 0)) return snap;
  const col: Collector = {
    rpc,
    contracts: deployment.contracts,
    block,
    concurrency: options.concurrency ?? 8,
    snap,
    seen: new Set(),
    accounts: await loadAccounts(rpc, deployment.contracts, block),
  };

  // 1. The batch id: given, or found by GTIN + lot among all registrations.
  const batchId = target.kind === "batchId" ? target.batchId : await findByDigitalLink(col, target);
  if (batchId === null) return snap;

  // 2. Everything the registry indexes under this batch id (topic 1): its registration, events,
  //    certifications and revocations, splits of it, the merge that made it, sale draws.
  const own = (await registryLogs(col, [null, batchId]))
    .map((l) => decode(batchRegistryAbi, l))
    .filter((d) => d !== null);
  const ownReg = own.find((d) => d.name === "BatchRegistered");
  if (ownReg === undefined) {
    snap.onChain[batchId] = await getBatch(col, batchId);
    return snap;
  }
  snap.batchId = batchId;
  snap.registrations[batchId] = registrationOf(ownReg.args, ownReg.ref, col.accounts);
  snap.onChain[batchId] = await getBatch(col, batchId);
  await loadContributorSource(col, batchId);
  collectOwnLogs(col, own);

  // 3. Merge parents (and where their contributors come from).
  for (const m of snap.merges.filter((m) => m.batchId === batchId)) {
    for (const input of m.inputs) {
      if (!(input.batchId in snap.onChain)) snap.onChain[input.batchId] = await getBatch(col, input.batchId);
      await loadContributorSource(col, input.batchId);
    }
  }

  await collectChildren(col, batchId);
  snap.certifications = await collectCertifications(col, own);
  snap.sales = await collectSales(col, batchId);
  await collectClaims(col, batchId);
  await collectCooperative(col, snap.registrations[batchId].cooperativeId);
  snap.money = await collectMoney(moneyReader(col), snap.registrations[batchId].cooperativeId, batchId);

  snap.events.sort(byChainOrder);
  snap.quantityChanges.sort(byChainOrder);
  snap.splits.sort(byChainOrder);
  snap.merges.sort(byChainOrder);
  return snap;
}

/**
 * What money.ts reads: this collector's node at its pinned block. A batch's contributors are looked up
 * on a side collector, so the registrations read on the way stay out of the batch's own snapshot.
 */
function moneyReader(col: Collector): MoneyReader {
  const ledger = col.contracts.PayoutLedger;
  const side: Collector = {
    ...col,
    snap: emptySnapshot(col.snap.rpcUrl, col.snap.nodeChainId, col.block, col.snap.deployment, {
      kind: "batchId",
      input: "",
      batchId: "",
    }),
    seen: new Set(),
  };
  return {
    escrow: col.contracts.SaleEscrow.address,
    ledger: ledger.address,
    escrowLogs: (topics) => escrowLogs(col, topics),
    ledgerLogs: (topics) => col.rpc.getLogs({ address: ledger.address, topics }, ledger.blockNumber, col.block),
    view: (to, abi, fn, args) => view(col, to, abi, fn, args),
    decode,
    async contributorsOf(batchId) {
      await loadContributorSource(side, batchId);
      return contributorSource(side.snap, batchId)?.contributors ?? null;
    },
  };
}

function emptySnapshot(
  rpcUrl: string,
  nodeChainId: number,
  block: number,
  deployment: Deployment,
  target: Target,
): Snapshot {
  return {
    rpcUrl,
    nodeChainId,
    block,
    deployment,
    codeSize: {},
    target:
      target.kind === "batchId"
        ? { input: target.input, kind: target.kind }
        : { input: target.input, kind: target.kind, gtin: target.gtin.toString(), lot: target.lot },
    candidates: [],
    batchId: null,
    registrations: {},
    onChain: {},
    splits: [],
    merges: [],
    events: [],
    certifications: [],
    quantityChanges: [],
    sales: [],
    claims: [],
    released: {},
    claimedView: {},
    claimableView: {},
    tokens: {},
    cooperative: null,
    reserveHistory: [],
    notes: [],
  };
}

function registryLogs(col: Collector, topics: (string | string[] | null)[]): Promise<RpcLog[]> {
  const registry = col.contracts.BatchRegistry;
  return col.rpc.getLogs({ address: registry.address, topics }, registry.blockNumber, col.block);
}

function escrowLogs(col: Collector, topics: (string | string[] | null)[]): Promise<RpcLog[]> {
  const escrow = col.contracts.SaleEscrow;
  return col.rpc.getLogs({ address: escrow.address, topics }, escrow.blockNumber, col.block);
}

/** A view call at the pinned block; null when it reverts (other failures are noted in the snapshot too). */
async function view(col: Collector, to: string, iface: Interface, fn: string, args: unknown[]): Promise<Result | null> {
  try {
    const raw = await col.rpc.ethCall(to, iface.encodeFunctionData(fn, args), col.block);
    return iface.decodeFunctionResult(fn, raw as `0x${string}`);
  } catch (err) {
    if (err instanceof RpcError) {
      if (!/revert/i.test(err.message) && err.code !== 3)
        col.snap.notes.push(`${fn}(${args.join(", ")}): ${err.message}`);
      return null;
    }
    throw err;
  }
}

/** Adds a split or merge once, however many batches lead to it. */
function addOnce<T extends { ref: LogRef }>(col: Collector, list: T[], item: T): void {
  const key = `${item.ref.txHash}:${item.ref.logIndex}`;
  if (col.seen.has(key)) return;
  col.seen.add(key);
  list.push(item);
}

/** The batch a Digital Link names (GTIN + lot), when exactly one registration matches; the matches go to candidates. */
async function findByDigitalLink(
  col: Collector,
  target: Extract<Target, { kind: "digitalLink" }>,
): Promise<string | null> {
  const regs = (await registryLogs(col, [T.BatchRegistered]))
    .map((l) => decode(batchRegistryAbi, l))
    .filter((d) => d !== null)
    .map((d) => registrationOf(d.args, d.ref, col.accounts));
  const splitParent = new Map<string, string>();
  for (const log of await registryLogs(col, [T.BatchSplit])) {
    const d = decode(batchRegistryAbi, log);
    if (d === null) continue;
    const s = splitOf(d.args, d.ref);
    for (const child of s.childIds) splitParent.set(child, s.parentId);
  }
  const byId = new Map(regs.map((r) => [r.batchId, r]));
  // A split child's GTIN is its ancestor's (the child's event leaves product fields empty).
  const gtinOf = (r: Registration): bigint => {
    let cur: Registration | undefined = r;
    for (let depth = 0; cur && cur.contributors.length === 0 && depth < MAX_DEPTH; depth++) {
      const parent = splitParent.get(cur.batchId);
      cur = parent === undefined ? undefined : byId.get(parent);
    }
    return cur?.info.gtin ?? 0n;
  };
  col.snap.candidates = regs
    .filter((r) => r.info.lotCode === target.lot && gtinOf(r) === target.gtin)
    .map((r) => r.batchId);
  return col.snap.candidates.length === 1 ? col.snap.candidates[0] : null;
}

async function getBatch(col: Collector, id: string): Promise<OnChainBatch | null> {
  const r = await view(col, col.contracts.BatchRegistry.address, batchRegistryAbi, "getBatch", [id]);
  if (r === null) return null;
  const b = r[0] as Result;
  return {
    cooperativeId: b.cooperativeId as bigint,
    quantity: b.quantity as bigint,
    drawn: b.drawn as bigint,
    totalWeight: b.totalWeight as bigint,
    contributorsRoot: lower(b.contributorsRoot as string),
  };
}

async function registration(col: Collector, id: string): Promise<Registration | null> {
  const { snap } = col;
  if (snap.registrations[id]) return snap.registrations[id];
  const logs = await registryLogs(col, [T.BatchRegistered, id]);
  const d = logs.length > 0 ? decode(batchRegistryAbi, logs[0]) : null;
  if (d === null) return null;
  snap.registrations[id] = registrationOf(d.args, d.ref, col.accounts);
  return snap.registrations[id];
}

/** Follows split children up to the registration that emitted their contributors. */
async function loadContributorSource(col: Collector, id: string): Promise<void> {
  const { snap } = col;
  let reg = await registration(col, id);
  for (let depth = 0; reg !== null && reg.contributors.length === 0 && depth < MAX_DEPTH; depth++) {
    // The child's BatchSplit is in the same transaction, hence the same block.
    const logs = await col.rpc.getLogsAt(
      { address: col.contracts.BatchRegistry.address, topics: [T.BatchSplit] },
      reg.ref.blockHash,
    );
    const current: Registration = reg;
    const split = logs
      .map((l) => decode(batchRegistryAbi, l))
      .filter((d) => d !== null)
      .map((d) => splitOf(d.args, d.ref))
      .find((s) => s.ref.txHash === current.ref.txHash && s.childIds.includes(current.batchId));
    if (split === undefined) return;
    addOnce(col, snap.splits, split);
    if (!(split.parentId in snap.onChain)) snap.onChain[split.parentId] = await getBatch(col, split.parentId);
    reg = await registration(col, split.parentId);
  }
}

/** The batch's own lifecycle events, splits, the merge that made it, and its sale draws. */
function collectOwnLogs(col: Collector, own: DecodedLog[]): void {
  const { snap } = col;
  for (const d of own) {
    switch (d.name) {
      case "BatchEvent":
        snap.events.push({
          bizStep: d.args.bizStep as string,
          location: d.args.location as string,
          eventTime: d.args.eventTime as bigint,
          documentHash: lower(d.args.documentHash as string),
          recordedBy: getAddress(d.args.recordedBy as string),
          ref: d.ref,
        });
        break;
      case "BatchSplit":
        addOnce(col, snap.splits, splitOf(d.args, d.ref));
        break;
      case "BatchesMerged":
        addOnce(col, snap.merges, mergeOf(d.args, d.ref));
        break;
      case "QuantityDrawn":
      case "QuantityRestored":
        snap.quantityChanges.push({
          kind: d.name === "QuantityDrawn" ? "drawn" : "restored",
          quantity: d.args.quantity as bigint,
          drawnTotal: d.args.drawnTotal as bigint,
          ref: d.ref,
        });
        break;
    }
  }
}

/** 4. Children: split children (from this batch's BatchSplit) and merges that drew from it. */
async function collectChildren(col: Collector, batchId: string): Promise<void> {
  const { snap } = col;
  for (const log of await registryLogs(col, [T.BatchesMerged])) {
    const d = decode(batchRegistryAbi, log);
    if (d === null) continue;
    const m = mergeOf(d.args, d.ref);
    if (m.inputs.some((i) => i.batchId === batchId)) addOnce(col, snap.merges, m);
  }
  const childIds = [
    ...snap.splits.filter((s) => s.parentId === batchId).flatMap((s) => s.childIds),
    ...snap.merges.filter((m) => m.inputs.some((i) => i.batchId === batchId)).map((m) => m.batchId),
  ];
  for (let i = 0; i < childIds.length; i += 100) {
    const chunk = childIds.slice(i, i + 100).filter((id) => !snap.registrations[id]);
    if (chunk.length === 0) continue;
    for (const log of await registryLogs(col, [T.BatchRegistered, chunk])) {
      const d = decode(batchRegistryAbi, log);
      if (d !== null) snap.registrations[lower(d.args.batchId as string)] = registrationOf(d.args, d.ref, col.accounts);
    }
  }
  await mapLimit(childIds, col.concurrency, async (id) => {
    if (!(id in snap.onChain)) snap.onChain[id] = await getBatch(col, id);
  });
}

/** 5. Certifications, with their revocations and current state. */
function collectCertifications(col: Collector, own: DecodedLog[]): Promise<CertificationFacts[]> {
  const registry = col.contracts.BatchRegistry.address;
  const revocations = new Map<bigint, { certifier: string; reasonHash: string; ref: LogRef }>();
  for (const d of own.filter((d) => d.name === "CertificationRevoked")) {
    revocations.set(d.args.certificationId as bigint, {
      certifier: getAddress(d.args.certifier as string),
      reasonHash: lower(d.args.reasonHash as string),
      ref: d.ref,
    });
  }
  return mapLimit(
    own.filter((d) => d.name === "BatchCertified"),
    col.concurrency,
    async (d) => {
      const id = d.args.certificationId as bigint;
      const cert = await view(col, registry, batchRegistryAbi, "getCertification", [id]);
      const valid = await view(col, registry, batchRegistryAbi, "isCertificationValid", [id]);
      const onChain = cert === null ? null : (cert[0] as Result);
      return {
        certificationId: id,
        certifier: getAddress(d.args.certifier as string),
        scheme: d.args.scheme as string,
        certificateHash: lower(d.args.certificateHash as string),
        validUntil: d.args.validUntil as bigint,
        ref: d.ref,
        revocation: revocations.get(id) ?? null,
        onChain:
          onChain === null
            ? null
            : {
                batchId: lower(onChain.batchId as string),
                certifier: getAddress(onChain.certifier as string),
                validUntil: onChain.validUntil as bigint,
                revoked: onChain.revoked as boolean,
              },
        validNow: valid === null ? null : (valid[0] as boolean),
      };
    },
  );
}

/** 6. Sales of the batch and every step of each, in chain order. */
async function collectSales(col: Collector, batchId: string): Promise<SaleFacts[]> {
  const created = (await escrowLogs(col, [T.SaleCreated, null, batchId]))
    .map((l) => decode(saleEscrowAbi, l))
    .filter((d) => d !== null);
  const sales = new Map<bigint, SaleFacts>();
  for (const d of created) {
    const sale = saleCreatedOf(d.args, d.ref);
    sales.set(sale.created.saleId, sale);
  }
  const saleIds = [...sales.keys()];
  for (let i = 0; i < saleIds.length; i += 100) {
    const topics = saleIds.slice(i, i + 100).map(uintTopic);
    for (const log of await escrowLogs(col, [SALE_EVENTS, topics])) {
      const d = decode(saleEscrowAbi, log);
      if (d === null) continue;
      const sale = sales.get(d.args.saleId as bigint);
      if (sale !== undefined) addSaleStep(sale, d);
    }
  }
  await mapLimit([...sales.values()], col.concurrency, async (sale) => {
    sale.onChain = await getSale(col, sale.created.saleId);
  });
  const sorted = [...sales.values()].sort((a, b) => byChainOrder(a.created, b.created));
  for (const sale of sorted) {
    sale.releases.sort(byChainOrder);
    sale.refunds.sort(byChainOrder);
  }
  return sorted;
}

function saleCreatedOf(a: Result, ref: LogRef): SaleFacts {
  return {
    created: {
      saleId: a.saleId as bigint,
      batchId: lower(a.batchId as string),
      cooperativeId: a.cooperativeId as bigint,
      seller: getAddress(a.seller as string),
      buyer: getAddress(a.buyer as string),
      token: getAddress(a.token as string),
      price: a.price as bigint,
      quantity: a.quantity as bigint,
      feeBps: a.feeBps as bigint,
      reserveBps: a.reserveBps as bigint,
      shippingPeriod: a.shippingPeriod as bigint,
      disputeWindow: a.disputeWindow as bigint,
      ref,
    },
    funded: null,
    shipped: null,
    confirmed: null,
    cancelled: null,
    disputeOpened: null,
    disputeResolved: null,
    releases: [],
    refunds: [],
    onChain: null,
  };
}

/** Records one step of a sale (funded, shipped, released, …) from its event. */
function addSaleStep(sale: SaleFacts, d: DecodedLog): void {
  const a = d.args;
  switch (d.name) {
    case "SaleFunded":
      sale.funded = { buyer: getAddress(a.buyer), amount: a.amount, shipBy: a.shipBy, ref: d.ref };
      break;
    case "SaleShipped":
      sale.shipped = { documentHash: lower(a.documentHash), disputeUntil: a.disputeUntil, ref: d.ref };
      break;
    case "DeliveryConfirmed":
      sale.confirmed = { buyer: getAddress(a.buyer), ref: d.ref };
      break;
    case "SaleCancelled":
      sale.cancelled = { by: getAddress(a.by), ref: d.ref };
      break;
    case "DisputeOpened":
      sale.disputeOpened = { buyer: getAddress(a.buyer), reasonHash: lower(a.reasonHash), ref: d.ref };
      break;
    case "DisputeResolved":
      sale.disputeResolved = {
        arbiter: getAddress(a.arbiter),
        refundBps: a.refundBps,
        rulingHash: lower(a.rulingHash),
        ref: d.ref,
      };
      break;
    case "SaleRefunded":
      sale.refunds.push({ buyer: getAddress(a.buyer), amount: a.amount, ref: d.ref });
      break;
    case "SaleReleased":
      sale.releases.push({
        saleId: a.saleId,
        batchId: lower(a.batchId),
        token: getAddress(a.token),
        gross: a.gross,
        fee: a.fee,
        reserve: a.reserve,
        net: a.net,
        releasedTotal: a.releasedTotal,
        ref: d.ref,
      });
      break;
  }
}

async function getSale(col: Collector, saleId: bigint): Promise<SaleFacts["onChain"]> {
  const r = await view(col, col.contracts.SaleEscrow.address, saleEscrowAbi, "getSale", [saleId]);
  if (r === null) return null;
  const s = r[0] as Result;
  return {
    batchId: lower(s.batchId as string),
    seller: getAddress(s.seller as string),
    cooperativeId: s.cooperativeId as bigint,
    feeBps: s.feeBps as bigint,
    reserveBps: s.reserveBps as bigint,
    buyer: getAddress(s.buyer as string),
    state: Number(s.state),
    token: getAddress(s.token as string),
    quantity: s.quantity as bigint,
    price: s.price as bigint,
  };
}

/** 7. Claims, and the escrow's views per token and contributor (and each token's symbol and decimals). */
async function collectClaims(col: Collector, batchId: string): Promise<void> {
  const { snap } = col;
  const escrow = col.contracts.SaleEscrow.address;
  snap.claims = (await escrowLogs(col, [T.Claimed, batchId]))
    .map((l) => decode(saleEscrowAbi, l))
    .filter((d) => d !== null)
    .map((d) => ({
      token: getAddress(d.args.token as string),
      account: getAddress(d.args.account as string),
      amount: d.args.amount as bigint,
      weight: d.args.weight as bigint,
      ref: d.ref,
    }))
    .sort(byChainOrder);
  const tokens = new Set<string>([
    ...snap.sales.flatMap((s) => [s.created.token, ...s.releases.map((r) => r.token)]),
    ...snap.claims.map((cl) => cl.token),
  ]);
  const contributors = contributorSource(snap, batchId)?.contributors ?? [];
  const accounts = new Map<string, bigint>(contributors.map((x) => [x.account, x.weight]));
  for (const cl of snap.claims) if (!accounts.has(cl.account)) accounts.set(cl.account, cl.weight);
  for (const token of tokens) {
    const released = await view(col, escrow, saleEscrowAbi, "released", [batchId, token]);
    if (released !== null) snap.released[token] = released[0] as bigint;
    const claimed: Record<string, bigint> = {};
    const claimable: Record<string, bigint> = {};
    await mapLimit([...accounts.entries()], col.concurrency, async ([account, weight]) => {
      const cd = await view(col, escrow, saleEscrowAbi, "claimed", [batchId, token, account]);
      if (cd !== null) claimed[account] = cd[0] as bigint;
      const cb = await view(col, escrow, saleEscrowAbi, "claimable", [batchId, token, account, weight]);
      if (cb !== null) claimable[account] = cb[0] as bigint;
    });
    snap.claimedView[token] = claimed;
    snap.claimableView[token] = claimable;
    snap.tokens[token] = await tokenInfo(col, token);
  }
}

async function tokenInfo(col: Collector, token: string): Promise<TokenInfo> {
  if (token === ZeroAddress) return { address: token, symbol: "ETH", decimals: 18 };
  const symbol = await view(col, token, erc20MetadataAbi, "symbol", []);
  const decimals = await view(col, token, erc20MetadataAbi, "decimals", []);
  const currency = await view(col, col.contracts.SaleEscrow.address, saleEscrowAbi, "currencyOf", [token]);
  const code = currency === null || (currency[0] as string) === "0x000000" ? null : hexToString(currency[0] as Hex);
  return {
    address: token,
    symbol: symbol === null ? token : (symbol[0] as string),
    decimals: decimals === null ? null : Number(decimals[0]),
    currency: code,
  };
}

/** 8. The cooperative, and its reserve rate over time (to check each sale's rate). */
async function collectCooperative(col: Collector, coopId: bigint): Promise<void> {
  const { snap } = col;
  const registry = col.contracts.CooperativeRegistry;
  const coop = await view(col, registry.address, cooperativeRegistryAbi, "getCooperative", [coopId]);
  if (coop !== null) {
    const k = coop[0] as Result;
    snap.cooperative = {
      name: k.name as string,
      region: k.region as string,
      registrationNumber: k.registrationNumber as string,
      admin: getAddress(k.admin as string),
      reserveBps: k.reserveBps as bigint,
      womenLed: k.womenLed as boolean,
      memberCount: k.memberCount as bigint,
    };
  }
  const coopLogs = await col.rpc.getLogs(
    { address: registry.address, topics: [[T.CooperativeRegistered, T.ReserveRateChanged], uintTopic(coopId)] },
    registry.blockNumber,
    col.block,
  );
  snap.reserveHistory = coopLogs
    .map((l) => decode(cooperativeRegistryAbi, l))
    .filter((d) => d !== null)
    .map((d) => ({
      bps: (d.name === "CooperativeRegistered" ? d.args.reserveBps : d.args.newBps) as bigint,
      ref: d.ref,
    }))
    .sort(byChainOrder);
}

/**
 * The registration whose emitted list a batch's commitment is built from: its own, or for a split
 * child the nearest ancestor that emitted contributors. `via` lists the split parents crossed.
 */
export function contributorSource(
  snap: Pick<Snapshot, "registrations" | "splits">,
  batchId: string,
): { registration: Registration; contributors: Contributor[]; via: string[] } | null {
  let reg: Registration | undefined = snap.registrations[batchId];
  const via: string[] = [];
  for (let depth = 0; reg !== undefined && reg.contributors.length === 0 && depth < MAX_DEPTH; depth++) {
    const id: string = reg.batchId;
    const split = snap.splits.find((s) => s.childIds.includes(id));
    if (split === undefined) return null;
    via.push(split.parentId);
    reg = snap.registrations[split.parentId];
  }
  if (reg === undefined || reg.contributors.length === 0) return null;
  return { registration: reg, contributors: reg.contributors, via };
}
