/**
 * Decoding of contract logs with the TypeChain interfaces into plain JSON values: the form stored in
 * the journal (`ix_logs.args`) and the only form the projections read, so a replay from the journal
 * and a fetch from the chain go through the same code.
 *
 * Integers wider than 53 bits become decimal strings, narrower ones numbers; addresses are
 * checksummed; bytes are lowercase hex; structs become objects keyed by their field names.
 */
import type { EventFragment, Interface, Log, ParamType } from "ethers";
import type { DeploymentFile } from "../../scripts/lib/deploy";
import { BatchRegistry__factory, CooperativeRegistry__factory, SaleEscrow__factory } from "../../typechain-types";

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type Args = Record<string, Json>;

export const INDEXED_CONTRACTS = ["CooperativeRegistry", "BatchRegistry", "SaleEscrow"] as const;
export type IndexedContract = (typeof INDEXED_CONTRACTS)[number];

/** Where a log sits in the chain. */
export interface ChainFacts {
  txHash: string;
  blockNumber: number;
  logIndex: number;
  blockTime: number;
}

export interface IndexedEvent extends ChainFacts {
  blockHash: string;
  txIndex: number;
  address: string;
  contract: IndexedContract;
  name: string;
  args: Args;
}

const INTERFACES: Record<IndexedContract, Interface> = {
  CooperativeRegistry: CooperativeRegistry__factory.createInterface(),
  BatchRegistry: BatchRegistry__factory.createInterface(),
  SaleEscrow: SaleEscrow__factory.createInterface(),
};

/**
 * Each contract's events by topic hash. ethers' parseLog finds the event by hashing the signature of
 * every event of the ABI in turn, on every call: too slow for the indexer's and the API's hot path.
 */
const EVENTS: Record<IndexedContract, Map<string, EventFragment>> = Object.fromEntries(
  INDEXED_CONTRACTS.map((name) => {
    const events = new Map<string, EventFragment>();
    INTERFACES[name].forEachEvent((event) => events.set(event.topicHash, event));
    return [name, events];
  }),
) as Record<IndexedContract, Map<string, EventFragment>>;

/** The indexed contracts of a deployment, by lowercase address. */
export function contractsByAddress(deployment: DeploymentFile): Map<string, IndexedContract> {
  return new Map(INDEXED_CONTRACTS.map((name) => [deployment.contracts[name].address.toLowerCase(), name]));
}

function normalize(type: ParamType, value: unknown): Json {
  if (type.isTuple()) {
    const out: Record<string, Json> = {};
    const values = value as readonly unknown[];
    type.components.forEach((component, i) => {
      out[component.name] = normalize(component, values[i]);
    });
    return out;
  }
  if (type.isArray()) {
    return (value as readonly unknown[]).map((item) => normalize(type.arrayChildren, item));
  }
  const base = type.baseType;
  if (base.startsWith("uint") || base.startsWith("int")) {
    const bits = Number(base.replace(/^u?int/, "") || "256");
    const n = BigInt(value as bigint);
    return bits <= 32 ? Number(n) : n.toString();
  }
  if (base === "bool") return Boolean(value);
  if (base === "address") return String(value); // ethers returns checksummed addresses
  if (base.startsWith("bytes")) return String(value).toLowerCase();
  if (base === "string") return String(value);
  throw new Error(`unsupported event parameter type ${type.format()}`);
}

// Recently decoded logs, by block hash and log index (which fix a log's content). A write's log is
// decoded twice otherwise: for the API's answer (from the receipt) and by the index (from
// eth_getLogs), and ABI decoding is the costlier half of indexing.
const recent = new Map<string, { name: string; args: Readonly<Args> }>();
const RECENT_MAX = 4096;

/**
 * Decodes one log of a known contract. Returns null for a log whose signature is not in the
 * contract's ABI (none is expected; the caller logs it). The `args` object may be shared with
 * other callers that decoded the same log: it is frozen.
 */
export function decodeLog(log: Log, contract: IndexedContract, blockTime: number): IndexedEvent | null {
  const key = `${log.blockHash}:${log.index}:${contract}`;
  let decoded = recent.get(key);
  if (decoded === undefined) {
    const fragment = log.topics.length > 0 ? EVENTS[contract].get(log.topics[0]) : undefined;
    if (fragment === undefined) return null;
    const values = INTERFACES[contract].decodeEventLog(fragment, log.data, log.topics);
    const args: Args = {};
    fragment.inputs.forEach((input, i) => {
      args[input.name] = normalize(input, values[i]);
    });
    decoded = { name: fragment.name, args: Object.freeze(args) };
    if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
    recent.set(key, decoded);
  }
  const { name, args } = decoded;
  return {
    txHash: log.transactionHash.toLowerCase(),
    blockNumber: log.blockNumber,
    logIndex: log.index,
    blockTime,
    blockHash: log.blockHash.toLowerCase(),
    txIndex: log.transactionIndex,
    address: log.address,
    contract,
    name,
    args: args as Args,
  };
}
