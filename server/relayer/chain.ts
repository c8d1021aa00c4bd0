/**
 * What the relayer reads from the chain, with its small caches: the forwarder's address, chain id
 * and EIP-712 domain (once), availability (contracts deployed, node answering, relayer funded: kept
 * a second), the targets that trust the forwarder, forwarder nonces, fee data and the head block
 * (shared PRICES_TTL_MS), receipts, and the head the stage `confirmed` is measured against.
 */
import {
  decodeEventLog,
  encodeFunctionData,
  getAddress,
  pad,
  parseAbi,
  toEventSelector,
  type Hex,
  type TypedDataDomain,
} from "viem";
import type { Logger } from "../log";
import { forwarderAbi } from "../chain/abis.generated";
import type { ChainClient, ChainLog, ChainReceipt, FeeData } from "../chain/client";
import { RelayRejectedError, RelayerUnavailableError } from "./errors";
import { revertDataOf } from "./nodeErrors";
import type { RelayerRpc } from "./rpc";
import type { ExecutedEvent } from "./settlement";

/** Fee data and head block are reused this long by the batches that follow. */
const PRICES_TTL_MS = 1000;
/** A positive availability check holds this long. */
const AVAILABLE_MS = 1000;
/** The head is asked for, for the stage of mined requests, at most this often. */
const HEAD_REFRESH_MS = 1000;
const TRUST_ABI = parseAbi(["function isTrustedForwarder(address forwarder) view returns (bool)"]);
const EXECUTED_EVENT = forwarderAbi.find((item) => item.type === "event" && item.name === "ExecutedForwardRequest")!;
const EXECUTED_TOPIC = toEventSelector(EXECUTED_EVENT as never);
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

/** The time requests are measured against: the head block's, unless the host's clock is later (an idle chain). */
export function chainNowSec(headTimestamp: number, hostMs: number): number {
  return Math.max(headTimestamp, Math.floor(hostMs / 1000));
}

export interface ForwarderContext {
  address: Hex;
  chainId: bigint;
  domain: TypedDataDomain;
}

export type RelayerChain = ReturnType<typeof createRelayerChain>;

interface ChainDeps {
  client: ChainClient;
  /** The forwarder's address. */
  forwarder: string;
  relayerAddress: string;
  rpc: RelayerRpc;
  minBalanceWei: bigint;
  log: Logger;
}

async function fetchContext({ client, forwarder, rpc: { rpc } }: ChainDeps): Promise<ForwarderContext> {
  const address = getAddress(forwarder);
  const [, name, version, domainChainId, verifyingContract] = await rpc(
    "eip712Domain",
    client.read({ address, abi: forwarderAbi, functionName: "eip712Domain" }),
  );
  return {
    address,
    chainId: BigInt(client.chainId),
    domain: { name, version, chainId: domainChainId, verifyingContract },
  };
}

/** Throws contracts_missing, relayer_low_balance (both logged) or chain_unavailable. */
async function checkAvailable(deps: ChainDeps): Promise<void> {
  const { client, relayerAddress, log } = deps;
  const { rpc } = deps.rpc;
  const forwarderAddress = deps.forwarder;
  const code = await rpc("getCode", client.getCode(forwarderAddress));
  if (code === "0x") {
    log.warn({ forwarder: forwarderAddress }, "no contract at the forwarder address (chain reset?)");
    throw new RelayerUnavailableError("contracts_missing", "the forwarder has no code on this chain");
  }
  const balance = await rpc("getBalance", client.getBalance(relayerAddress));
  if (balance < deps.minBalanceWei) {
    log.warn(
      { relayer: relayerAddress, balance: balance.toString(), minBalance: deps.minBalanceWei.toString() },
      "relayer balance below minimum: refusing requests",
    );
    throw new RelayerUnavailableError("relayer_low_balance", "the relayer account is low on funds");
  }
}

/** forwarder.nonces of many signers in one JSON-RPC batch (one HTTP exchange instead of one per signer). */
async function fetchNonces(deps: ChainDeps, forwarderAddress: string, signers: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (signers.length === 0) return out;
  const payload = signers.map((signer, i) => ({
    jsonrpc: "2.0" as const,
    id: i,
    method: "eth_call",
    params: [
      {
        to: forwarderAddress,
        data: encodeFunctionData({ abi: forwarderAbi, functionName: "nonces", args: [signer as Hex] }),
      },
      "latest",
    ],
  }));
  const answers = await deps.rpc.rpc("nonces", deps.client.batch(payload));
  for (const answer of answers) {
    const signer = signers[answer.id];
    if (signer === undefined || typeof answer.result !== "string" || !BYTES32.test(answer.result)) continue;
    out.set(signer, Number(BigInt(answer.result)));
  }
  const missing = signers.filter((s) => !out.has(s));
  if (missing.length > 0) {
    throw new RelayerUnavailableError("chain_unavailable", `nonces: no answer for ${missing.length} signer(s)`);
  }
  return out;
}

/** The ExecutedForwardRequest event of a log of the forwarder at `forwarderAddress`, or undefined. */
function executedEvent(l: ChainLog, forwarderAddress: string): ExecutedEvent | undefined {
  // The client checksums the addresses of receipts; viem those of decoded arguments.
  if (l.topics[0] !== EXECUTED_TOPIC || l.address !== forwarderAddress) return undefined;
  const { args } = decodeEventLog({
    abi: forwarderAbi,
    eventName: "ExecutedForwardRequest",
    data: l.data,
    topics: l.topics as [Hex, ...Hex[]],
  });
  return { signer: args.signer, nonce: args.nonce, success: args.success };
}

async function executionOf(
  deps: ChainDeps,
  signer: string,
  nonce: number,
  fromBlock: number,
): Promise<{ success: boolean; txHash: Hex; blockNumber: number } | undefined> {
  const logs = await deps.rpc.rpc(
    "queryFilter",
    deps.client.getLogs({
      address: deps.forwarder,
      topics: [EXECUTED_TOPIC, pad(signer.toLowerCase() as Hex)],
      fromBlock,
      toBlock: "latest",
    }),
  );
  for (const l of logs) {
    const event = executedEvent(l, getAddress(deps.forwarder));
    if (event?.nonce === BigInt(nonce)) {
      return { success: event.success, txHash: l.transactionHash, blockNumber: l.blockNumber };
    }
  }
  return undefined;
}

/** Whether a target contract trusts our forwarder (ERC-2771), asked once per target and remembered. */
function trustChecker(deps: ChainDeps, forwarderContext: () => Promise<ForwarderContext>) {
  const { client } = deps;
  const { rpc } = deps.rpc;
  const trustedTargets = new Set<string>();
  return async function ensureTrusted(target: string): Promise<void> {
    if (trustedTargets.has(target)) return;
    const { address } = await forwarderContext();
    let trusted = false;
    try {
      const data = encodeFunctionData({ abi: TRUST_ABI, functionName: "isTrustedForwarder", args: [address] });
      const out = await rpc("isTrustedForwarder", client.call({ to: target, data }));
      trusted = (out.length - 2) / 2 >= 32 && BigInt(out.slice(0, 66)) !== 0n;
    } catch (err) {
      if (!revertDataOf(err).reverted) throw err;
    }
    if (!trusted) throw new RelayRejectedError("untrusted_target", `${target} does not trust the CoopTrace forwarder`);
    trustedTargets.add(target);
  };
}

export function createRelayerChain(deps: ChainDeps) {
  const { client, relayerAddress } = deps;
  const { rpc } = deps.rpc;
  let context: Promise<ForwarderContext> | undefined;
  let availableUntil = 0;
  let availabilityCheck: Promise<void> | undefined;
  let prices: { at: number; value: Promise<{ fees: FeeData; blockNumber: number; timestamp: number }> } | undefined;
  let head: number | undefined;
  let headAskedAt = 0;

  function forwarderContext(): Promise<ForwarderContext> {
    context ??= fetchContext(deps).catch((err: unknown) => {
      context = undefined;
      throw err;
    });
    return context;
  }

  /** Contracts deployed, node reachable, relayer funded; the requests arriving meanwhile share one check. */
  function ensureAvailable(): Promise<void> {
    if (Date.now() < availableUntil) return Promise.resolve();
    availabilityCheck ??= checkAvailable(deps)
      .then(() => {
        availableUntil = Date.now() + AVAILABLE_MS;
      })
      .finally(() => {
        availabilityCheck = undefined;
      });
    return availabilityCheck;
  }

  const ensureTrusted = trustChecker(deps, forwarderContext);

  async function forwarderNonces(signers: string[]): Promise<Map<string, number>> {
    if (signers.length === 0) return new Map();
    return fetchNonces(deps, (await forwarderContext()).address, signers);
  }

  /**
   * Fee data and head block, shared by the batches sent within PRICES_TTL_MS: a few seconds old they
   * are still good (maxFeePerGas is twice the base fee; the head is a lower bound for log queries).
   */
  function currentPrices(): Promise<{ fees: FeeData; blockNumber: number; timestamp: number }> {
    if (prices !== undefined && Date.now() - prices.at < PRICES_TTL_MS) return prices.value;
    const value = Promise.all([
      rpc("getFeeData", client.getFeeData()),
      rpc("getBlock", client.getBlock("latest")),
    ]).then(([fees, block]) => {
      if (block === null) throw new RelayerUnavailableError("chain_unavailable", "the node has no latest block");
      sawBlock(block.number);
      return { fees, blockNumber: block.number, timestamp: block.timestamp };
    });
    const entry = { at: Date.now(), value };
    prices = entry;
    value.catch(() => {
      if (prices === entry) prices = undefined;
    });
    return value;
  }

  /** Every block number learnt (prices, receipts) moves the known head forward. */
  function sawBlock(blockNumber: number): void {
    if (head === undefined || blockNumber > head) head = blockNumber;
  }

  return {
    rpc,
    withTimeout: deps.rpc.withTimeout,
    forwarderContext,
    ensureAvailable,
    ensureTrusted,
    forwarderNonces,
    currentPrices,
    /**
     * The chain's time (unix s) for deadlines and expiry: the head block's timestamp, or the host's
     * clock when it is later. A chain whose clock runs ahead of the host's (an L2 sequencer, a test
     * network moved forward) would take a host-clock deadline as already past; an idle chain's head
     * is old, and its next block is not (chainNowSec).
     */
    now: async () => chainNowSec((await currentPrices()).timestamp, Date.now()),
    forwarderNonce: (signer: string) =>
      rpc(
        "nonces",
        client.read({ address: deps.forwarder, abi: forwarderAbi, functionName: "nonces", args: [signer as Hex] }),
      ),
    feeData: () => rpc("getFeeData", client.getFeeData()),
    accountNonce: (tag: "latest" | "pending") =>
      rpc("getTransactionCount", client.getTransactionCount(relayerAddress, tag)),
    balance: () => rpc("getBalance", client.getBalance(relayerAddress)),
    receipt: (hash: string) => rpc("getTransactionReceipt", client.getTransactionReceipt(hash)),
    /** Whether the forwarder has code on the node's chain (none: the chain was replaced, not reorganised). */
    forwarderDeployed: async () => (await rpc("getCode", client.getCode(deps.forwarder))) !== "0x",
    /** The node's head block number (moves the known head only forward: a reorg is seen by its receipts). */
    blockNumber: async () => {
      const n = await rpc("getBlockNumber", client.getBlockNumber());
      sawBlock(n);
      return n;
    },
    /** The node's head block, number and hash (the reconciler compares hashes: same hash, same chain below). */
    headBlock: async (): Promise<{ number: number; hash: string }> => {
      const block = await rpc("getBlock", client.getBlock("latest"));
      if (block === null) throw new RelayerUnavailableError("chain_unavailable", "the node has no latest block");
      sawBlock(block.number);
      return { number: block.number, hash: block.hash.toLowerCase() };
    },
    /** Whether the node still knows a transaction (mined or in its pool). */
    knows: async (hash: string) =>
      (await rpc("getTransaction", client.request("eth_getTransactionByHash", [hash]))) !== null,
    sendRaw: (raw: string) => deps.rpc.withTimeout("sendRawTransaction", client.sendRawTransaction(raw)),

    /** The receipt of whichever of `hashes` (versions of one transaction) was mined, or null; all asked at once. */
    async minedReceipt(hashes: string[]): Promise<ChainReceipt | null> {
      const receipts = await Promise.all(
        hashes.map((h) => rpc("getTransactionReceipt", client.getTransactionReceipt(h))),
      );
      const mined = receipts.find((r) => r !== null) ?? null;
      if (mined !== null) sawBlock(mined.blockNumber);
      return mined;
    },

    executedEvent,

    /** Where and whether `signer`'s request at `nonce` ran since `fromBlock`, from its execution log. */
    executionOf: (signer: string, nonce: number, fromBlock: number) => executionOf(deps, signer, nonce, fromBlock),

    /**
     * The head known so far; when it is older than HEAD_REFRESH_MS and `refresh`, asked for in the
     * background (a reader of a status does not wait on the node).
     */
    head(refresh: boolean): number | undefined {
      if (refresh && Date.now() - headAskedAt >= HEAD_REFRESH_MS) {
        headAskedAt = Date.now();
        rpc("getBlockNumber", client.getBlockNumber()).then(sawBlock, () => undefined);
      }
      return head;
    },
  };
}
