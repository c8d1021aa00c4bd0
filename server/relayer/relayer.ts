/**
 * The relayer: members' EIP-712 forward requests, sent through the ERC-2771 forwarder by one
 * relayer account that pays the gas, with a durable outbox in SQLite.
 *
 * Design
 * ------
 * Outbox (outbox.ts). `outbox_requests` holds each accepted request under a random id that stays
 * the same across resubmissions: user, from, to, value, gas, data, and once signed the forwarder
 * nonce, deadline and signature; state queued → sent → mined | failed; the relayer transaction it
 * went out in, the hash of the transaction that executed it, the error. `relayer_txs` holds the
 * relayer's own transactions (relayer nonce, gas limit, first block, state sent → mined | dropped)
 * and `relayer_tx_attempts` every signed version of each (raw transaction, fee fields, hash), so
 * that after a crash we can rebroadcast or find whichever one was mined. `relayer_nonces` is the
 * relayer's nonce allocator: a nonce is taken in the same SQLite transaction that records the
 * signed transaction and moves its requests to 'sent', before anything is broadcast.
 *
 * Accepting (submit / submitSigned). Before a row exists: the forwarder must have code
 * ('contracts_missing'), the node must answer ('chain_unavailable'), the relayer must hold
 * minBalanceWei ('relayer_low_balance', logged as a warning), the target must trust the forwarder,
 * and the call must not revert. The call is simulated exactly as the forwarder makes it: from the
 * forwarder's address with the signer appended to the calldata (ERC-2771), so `_msgSender()` is the
 * member and no forwarder nonce or signature is needed; a revert is decoded against all CoopTrace
 * ABIs and thrown as RelayRejectedError. The same estimate gives the request gas (+25%).
 *
 * Sending (the loop). Custodial requests are signed at send time (custody decrypts the key only
 * then, through deps.signTypedData), with deadline = now + requestTtlSeconds and the signer's next
 * forwarder nonce: max(forwarder.nonces(from), highest nonce of its requests in flight + 1), then
 * +1 per request of the same signer in the batch. Custody signs only with the key recorded for the
 * request's from address (it checks that key against the address once per stored key record).
 * Queued requests (up to maxBatch, within the 2^24 gas cap of a transaction: the sum of request
 * gas × 64/63 plus per-request and calldata overhead) go out in one `executeBatch(requests,
 * refundReceiver = relayer)`. Always executeBatch, even for one request: with a refund receiver it
 * is non-atomic, so a request whose call reverts does not revert the transaction, and the
 * ExecutedForwardRequest(signer, nonce, success) events settle every request the same way
 * (`execute` would revert the whole transaction and leave us to guess why). At most maxInFlight
 * relayer transactions are pending at once; requests arriving meanwhile wait and go out together.
 *
 * Settling. Once the relayer's mined nonce passes a transaction's nonce, the receipts of all its
 * hashes are looked up. In a mined one: success → mined; success false → failed 'reverted', the
 * reason decoded by replaying the call at the previous block, then at the block itself (a request
 * that failed because an earlier one in the same batch changed the state shows its error only
 * there). A reverted transaction (status 0) executed nothing: its requests are requeued. A request
 * without an event (skipped by the forwarder: expired, or its nonce was not current), or a
 * transaction none of whose hashes was mined (the nonce was used by another transaction), is
 * resolved one by one: if forwarder.nonces(from) has not passed its nonce it never ran and is
 * requeued (custodial ones re-signed later with a fresh nonce; member-signed ones keep their
 * signature while it is valid); otherwise the ExecutedForwardRequest(from, nonce) log tells
 * whether and where it ran (someone may have relayed the signed request from the mempool). This
 * gives the invariant: a signed request can only run at its forwarder nonce, and a request is
 * re-signed only when the transaction carrying its old signature can no longer be mined and its
 * nonce is unused — so nothing accepted is lost and nothing runs twice.
 *
 * Replacement. A transaction not mined replaceAfterMs after its last broadcast is re-signed at the
 * same nonce with maxFeePerGas and maxPriorityFeePerGas raised by ≥ 12.5% (and at least to the
 * current fee data); gas price for legacy chains. Every hash is recorded; whichever is mined wins.
 *
 * Recovery (start, or recover()). For each transaction in 'sent': if the relayer's mined nonce
 * has passed it, settle as above; otherwise rebroadcast its latest signed version (the node may
 * have restarted with an empty pool). Then the allocator is set to max(pending nonce on chain,
 * highest open nonce + 1), which adopts nonces used outside the gateway and closes gaps left by
 * transactions the node rejected.
 *
 * Logs never contain keys, signatures or raw transactions (ethers error messages embed the raw
 * transaction: only their short message is logged, with long hex cut).
 *
 * Not handled: a chain that loses blocks we already settled (the index's confirmations setting is
 * the guard there); a self-custody member who also submits straight to the forwarder, or whose
 * requests are mixed with custodial ones (custodial requests of a signer wait while member-signed
 * ones are queued); no fee ceiling on replacements.
 */
import { randomUUID } from "node:crypto";
import {
  Interface,
  Transaction,
  concat,
  dataLength,
  getAddress,
  isHexString,
  toQuantity,
  verifyTypedData,
  type JsonRpcProvider,
  type Log,
  type FeeData,
  type TransactionReceipt,
  type TypedDataDomain,
  type TypedDataField,
  type Wallet,
} from "ethers";
import type { Logger } from "../log";
import type { Db } from "../store/db";
import { Forwarder__factory, type Forwarder } from "../../typechain-types";
import { encodeCall } from "../chain/calldata";
import { RelayRejectedError, RelayerUnavailableError, decodeRevert, revertDataOf, type DecodedError } from "./errors";
import { signRelayerTransaction, type RelayerTxFields } from "./txsign";
import { createOutboxStore, type RequestRow, type RequestState, type Settlement, type TxRow } from "./outbox";

/** A forward request signed by the member itself (self-custody), as ERC2771Forwarder takes it. */
export interface ForwardRequestData {
  from: string;
  to: string;
  value: bigint;
  gas: bigint;
  deadline: bigint | number;
  data: string;
  signature: string;
}

export interface OperationStatus {
  id: string;
  userId: string;
  state: RequestState;
  /** The transaction that executed the request once settled; while sent, the latest broadcast version. */
  txHash?: string;
  /** Every hash of the relayer transaction that carries it (original and replacements). */
  txHashes?: string[];
  blockNumber?: number;
  error?: { code: string; message: string; decoded?: DecodedError };
  createdAt: string;
  updatedAt: string;
}

export interface RelayerOptions {
  /** Requests per transaction. Default 20. */
  maxBatch?: number;
  /** Loop period in ms when idle. Default 100. */
  pollMs?: number;
  /** Poll interval while a relayer transaction is in flight (short on a local node). Default: pollMs. */
  inFlightPollMs?: number;
  /** A sent transaction not mined after this is replaced with higher fees. Default 30 s. */
  replaceAfterMs?: number;
  /** Below this the relayer refuses new requests. Default 0.01 ETH. */
  minBalanceWei?: bigint;
  /** Validity of a custodial request's signature. Default 3600 s. */
  requestTtlSeconds?: number;
  /**
   * Ask for the receipts of in-flight transactions on every round instead of waiting for the
   * relayer's nonce to move first: one round trip less on a node that mines each transaction on
   * arrival (the embedded chain), more calls on a real network. Default false.
   */
  eagerReceipts?: boolean;
  /** Relayer transactions pending at once. Default 4. */
  maxInFlight?: number;
  /** Times a request may be requeued before it fails 'not_executed'. Default 5. */
  maxAttempts?: number;
  /** Timeout of one JSON-RPC call. Default 10 s. */
  rpcTimeoutMs?: number;
}

export interface RelayerDeps {
  db: Db;
  provider: JsonRpcProvider;
  forwarder: Forwarder;
  relayer: Wallet;
  /**
   * Signs as `userId`, whose key must be `signer`'s (custody checks it and throws otherwise: the
   * relayer does not recover the signature again).
   */
  signTypedData(
    userId: string,
    signer: string,
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
  log: Logger;
  options?: RelayerOptions;
}

export interface SubmitRequest {
  userId: string;
  from: string;
  to: string;
  data: string;
  value?: bigint;
  gas?: bigint;
}

export interface Relayer {
  submit(req: SubmitRequest): Promise<{ id: string }>;
  submitSigned(req: { userId: string; request: ForwardRequestData }): Promise<{ id: string }>;
  status(id: string): OperationStatus | undefined;
  logs(id: string): Promise<Log[]>;
  waitFor(id: string, timeoutMs: number): Promise<OperationStatus>;
  start(): Promise<void>;
  stop(): Promise<void>;
  recover(): Promise<void>;
  depth(): { queued: number; sent: number };
  balance(): Promise<bigint>;
}

/** A forward request found executed in a receipt. */
interface Execution {
  success: boolean;
  logs: Log[];
}

/** EIP-712 types of ERC2771Forwarder (OpenZeppelin 5). */
export const FORWARD_REQUEST_TYPES: Record<string, TypedDataField[]> = {
  ForwardRequest: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "gas", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint48" },
    { name: "data", type: "bytes" },
  ],
};

/** EIP-7825: no transaction may ask for more gas. */
export const TX_GAS_CAP = 1n << 24n;
const TX_OVERHEAD = 60_000n;
/** Signature recovery, trust check, nonce write, event and loop per request (measured ~35k). */
const PER_REQUEST_OVERHEAD = 60_000n;
/** Calldata priced at the EIP-7623 floor for non-zero bytes, an upper bound. */
const CALLDATA_GAS_PER_BYTE = 40n;
/** Fixed ABI words of one ForwardRequestData in executeBatch (offsets, fields, signature). */
const REQUEST_ABI_BYTES = 480;
const DEADLINE_SLACK_SECONDS = 30;
/** A pending relayer transaction is looked for in the node's pool at most this often. */
const POOL_CHECK_MS = 2000;
/** How long "nonce used, no receipt of ours" must hold before the requests are resolved one by one. */
const NONCE_USED_GRACE_MS = 3000;
/** Fee data and head block are reused this long by the batches that follow. */
const PRICES_TTL_MS = 1000;
/** waitFor looks at the outbox this often for requests another gateway on the same file settles. */
const WAIT_POLL_MS = 200;
const TRUST_IFACE = new Interface(["function isTrustedForwarder(address forwarder) view returns (bool)"]);

function requestCost(gas: bigint, dataBytes: number): bigint {
  return gas + gas / 63n + 1n + PER_REQUEST_OVERHEAD + CALLDATA_GAS_PER_BYTE * BigInt(dataBytes + REQUEST_ABI_BYTES);
}

/** +12.5%, rounded up, and at least +1 wei. */
function bump(x: bigint): bigint {
  const up = (x * 1125n + 999n) / 1000n;
  return up > x ? up : x + 1n;
}

function maxBig(...xs: bigint[]): bigint {
  return xs.reduce((a, b) => (b > a ? b : a));
}

/** A short, secret-free description of an error: ethers messages embed raw transactions. */
function describe(err: unknown): { code?: string; message: string } {
  const e = err as { code?: unknown; shortMessage?: unknown; message?: unknown } | null;
  const text = String(e?.shortMessage ?? e?.message ?? err)
    .replace(/0x[0-9a-fA-F]{130,}/g, "0x…")
    .slice(0, 300);
  return { code: typeof e?.code === "string" ? e.code : undefined, message: text };
}

/** True when the node answered with a JSON-RPC error (as opposed to no answer at all). */
function nodeAnswered(err: unknown): boolean {
  const e = err as { error?: { code?: unknown }; info?: { error?: { code?: unknown } } } | null;
  return e?.error?.code !== undefined || e?.info?.error?.code !== undefined;
}

export function createRelayer(deps: RelayerDeps): Relayer {
  const { provider, forwarder, log } = deps;
  const opts = {
    maxBatch: deps.options?.maxBatch ?? 20,
    pollMs: deps.options?.pollMs ?? 100,
    inFlightPollMs: deps.options?.inFlightPollMs ?? deps.options?.pollMs ?? 100,
    eagerReceipts: deps.options?.eagerReceipts ?? false,
    replaceAfterMs: deps.options?.replaceAfterMs ?? 30_000,
    minBalanceWei: deps.options?.minBalanceWei ?? 10n ** 16n,
    requestTtlSeconds: deps.options?.requestTtlSeconds ?? 3600,
    maxInFlight: deps.options?.maxInFlight ?? 4,
    maxAttempts: deps.options?.maxAttempts ?? 5,
    rpcTimeoutMs: deps.options?.rpcTimeoutMs ?? 10_000,
  };
  const store = createOutboxStore(deps.db);
  const relayerAddress = getAddress(deps.relayer.address);
  const executedEvent = forwarder.interface.getEvent("ExecutedForwardRequest");
  const executedTopic = executedEvent.topicHash;
  /** The (signer, nonce, success) of an ExecutedForwardRequest log (parseLog would search all events). */
  const executedArgs = (l: Log) => forwarder.interface.decodeEventLog(executedEvent, l.data, l.topics);
  /** Relayer transactions whose nonce the node counts as used while none of their versions has a receipt, since when. */
  const missingReceiptSince = new Map<number, number>();
  /** waitFor's sleepers by request id, woken when this instance settles that request. */
  const waiters = new Map<string, Set<() => void>>();
  const trustedTargets = new Set<string>();
  let availableUntil = 0;
  let availabilityCheck: Promise<void> | undefined;
  let context: Promise<{ address: string; chainId: bigint; domain: TypedDataDomain }> | undefined;
  let running = false;
  let loopDone: Promise<void> | undefined;
  let wakeSleep: (() => void) | undefined;
  let wakeRequested = false;
  /** After the node refused a transaction for good (e.g. funds), sending pauses a while. */
  let pauseUntil = 0;
  let lock: Promise<unknown> = Promise.resolve();

  // ---- chain access -------------------------------------------------------------------------

  /** Bounds a JSON-RPC call in time; any failure but a revert means the chain is unavailable. */
  async function withTimeout<T>(what: string, call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RelayerUnavailableError("chain_unavailable", `${what}: no answer in ${opts.rpcTimeoutMs} ms`)),
        opts.rpcTimeoutMs,
      );
    });
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function rpc<T>(what: string, call: Promise<T>): Promise<T> {
    try {
      return await withTimeout(what, call);
    } catch (err) {
      if (err instanceof RelayerUnavailableError || revertDataOf(err).reverted) throw err;
      throw new RelayerUnavailableError("chain_unavailable", `${what}: ${describe(err).message}`);
    }
  }

  function forwarderContext() {
    context ??= (async () => {
      const address = getAddress(await forwarder.getAddress());
      const { chainId } = await rpc("getNetwork", provider.getNetwork());
      const [, name, version, domainChainId, verifyingContract] = await rpc("eip712Domain", forwarder.eip712Domain());
      const domain: TypedDataDomain = { name, version, chainId: domainChainId, verifyingContract };
      return { address, chainId, domain };
    })().catch((err: unknown) => {
      context = undefined;
      throw err;
    });
    return context;
  }

  /**
   * Contracts deployed, node reachable, relayer funded; positive answers are kept for a second, and
   * the requests that arrive while a check runs share it.
   */
  function ensureAvailable(): Promise<void> {
    if (Date.now() < availableUntil) return Promise.resolve();
    availabilityCheck ??= checkAvailable().finally(() => {
      availabilityCheck = undefined;
    });
    return availabilityCheck;
  }

  async function checkAvailable(): Promise<void> {
    const forwarderAddress = await forwarder.getAddress();
    const code = await rpc("getCode", provider.getCode(forwarderAddress));
    if (code === "0x") {
      log.warn({ forwarder: forwarderAddress }, "no contract at the forwarder address (chain reset?)");
      throw new RelayerUnavailableError("contracts_missing", "the forwarder has no code on this chain");
    }
    const balance = await rpc("getBalance", provider.getBalance(relayerAddress));
    if (balance < opts.minBalanceWei) {
      log.warn(
        { relayer: relayerAddress, balance: balance.toString(), minBalance: opts.minBalanceWei.toString() },
        "relayer balance below minimum: refusing requests",
      );
      throw new RelayerUnavailableError("relayer_low_balance", "the relayer account is low on funds");
    }
    availableUntil = Date.now() + 1000;
  }

  async function ensureTrusted(target: string): Promise<void> {
    if (trustedTargets.has(target)) return;
    const { address } = await forwarderContext();
    let trusted = false;
    try {
      const out = await rpc(
        "isTrustedForwarder",
        provider.call({ to: target, data: TRUST_IFACE.encodeFunctionData("isTrustedForwarder", [address]) }),
      );
      trusted = dataLength(out) >= 32 && BigInt(out.slice(0, 66)) !== 0n;
    } catch (err) {
      if (!revertDataOf(err).reverted) throw err;
    }
    if (!trusted) throw new RelayRejectedError("untrusted_target", `${target} does not trust the CoopTrace forwarder`);
    trustedTargets.add(target);
  }

  /**
   * forwarder.nonces(signer) of many signers in one JSON-RPC batch (one HTTP exchange with the node
   * instead of one per signer; sendNext needs the nonce of every signer of a batch).
   */
  async function forwarderNonces(signers: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (signers.length === 0) return out;
    const { address } = await forwarderContext();
    const payload = signers.map((signer, i) => ({
      jsonrpc: "2.0" as const,
      id: i,
      method: "eth_call",
      params: [{ to: address, data: forwarder.interface.encodeFunctionData("nonces", [signer]) }, "latest"],
    }));
    const answers = await rpc("nonces", provider._send(payload));
    for (const answer of answers as { id: number; result?: unknown }[]) {
      const signer = signers[answer.id];
      if (signer === undefined || typeof answer.result !== "string" || !isHexString(answer.result, 32)) continue;
      out.set(signer, Number(BigInt(answer.result)));
    }
    const missing = signers.filter((s) => !out.has(s));
    if (missing.length > 0) {
      throw new RelayerUnavailableError("chain_unavailable", `nonces: no answer for ${missing.length} signer(s)`);
    }
    return out;
  }

  // Fee data and head block, shared by the batches sent within PRICES_TTL_MS: a few seconds old they
  // are still good (maxFeePerGas is twice the base fee; the head is a lower bound for log queries).
  let prices: { at: number; value: Promise<{ fees: FeeData; blockNumber: number }> } | undefined;
  function currentPrices(): Promise<{ fees: FeeData; blockNumber: number }> {
    if (prices !== undefined && Date.now() - prices.at < PRICES_TTL_MS) return prices.value;
    const value = Promise.all([
      rpc("getFeeData", provider.getFeeData()),
      rpc("getBlockNumber", provider.getBlockNumber()),
    ]).then(([fees, blockNumber]) => ({ fees, blockNumber }));
    const entry = { at: Date.now(), value };
    prices = entry;
    value.catch(() => {
      if (prices === entry) prices = undefined;
    });
    return value;
  }

  /** The call as the forwarder makes it (ERC-2771 suffix); returns its gas estimate or throws the decoded revert. */
  async function simulate(from: string, to: string, data: string, value: bigint): Promise<bigint> {
    const { address } = await forwarderContext();
    // Both are checked hex already: the ERC-2771 suffix is the signer's 20 bytes.
    const call = { from: address, to, data: data + from.slice(2).toLowerCase(), value: toQuantity(value) };
    try {
      // Straight JSON-RPC (ethers' estimateGas would re-check and re-encode every field); a value
      // is lent to the forwarder, which holds no ether, with a state override.
      const params =
        value === 0n ? [call, "latest"] : [call, "latest", { [address]: { balance: toQuantity(value * 2n) } }];
      const hex = await rpc("estimateGas", provider.send("eth_estimateGas", params));
      return BigInt(hex as string);
    } catch (err) {
      const revert = revertDataOf(err);
      if (!revert.reverted) throw err;
      const decoded = decodeRevert(revert.data);
      throw new RelayRejectedError(
        "would_revert",
        decoded ? `the call would revert with ${decoded.name}` : "the call would revert",
        decoded,
      );
    }
  }

  /** Replays a failed request's call around its block to find out why it reverted. */
  async function failureReason(row: RequestRow, blockNumber: number) {
    const { address } = await forwarderContext();
    let decoded: DecodedError | undefined;
    for (const blockTag of [blockNumber - 1, blockNumber]) {
      try {
        await rpc(
          "call",
          provider.call({
            from: address,
            to: row.target,
            data: concat([row.data, row.signer]),
            value: BigInt(row.value),
            blockTag,
          }),
        );
      } catch (err) {
        const revert = revertDataOf(err);
        if (!revert.reverted) break;
        decoded = decodeRevert(revert.data);
        if (decoded) break;
      }
    }
    return {
      code: "reverted",
      message: decoded ? `the call reverted with ${decoded.name}` : "the call reverted",
      decoded,
    };
  }

  // ---- accepting ----------------------------------------------------------------------------

  function address(value: unknown, field: string): string {
    try {
      return getAddress(String(value));
    } catch {
      throw new RelayRejectedError("invalid_request", `${field} is not an address`);
    }
  }

  function checkCommon(userId: unknown, data: unknown, value: bigint) {
    if (typeof userId !== "string" || userId === "")
      throw new RelayRejectedError("invalid_request", "userId is required");
    if (typeof data !== "string" || !isHexString(data) || data.length % 2 !== 0) {
      throw new RelayRejectedError("invalid_request", "data is not hex bytes");
    }
    if (value < 0n) throw new RelayRejectedError("invalid_request", "value is negative");
  }

  function chooseGas(given: bigint | undefined, estimate: bigint, data: string): bigint {
    let gas: bigint;
    if (given !== undefined) {
      if (given < estimate) {
        throw new RelayRejectedError("gas_too_low", `gas ${given} is below the estimate ${estimate}`);
      }
      gas = given;
    } else {
      gas = estimate + estimate / 4n;
    }
    if (TX_OVERHEAD + requestCost(gas, dataLength(data)) > TX_GAS_CAP) {
      throw new RelayRejectedError("gas_too_high", `gas ${gas} does not fit in one transaction`);
    }
    return gas;
  }

  async function submit(req: SubmitRequest): Promise<{ id: string }> {
    const from = address(req.from, "from");
    const to = address(req.to, "to");
    const value = req.value ?? 0n;
    checkCommon(req.userId, req.data, value);
    await ensureAvailable();
    await ensureTrusted(to);
    const gas = chooseGas(req.gas, await simulate(from, to, req.data, value), req.data);
    const id = randomUUID();
    store.insertRequest({
      id,
      userId: req.userId,
      signer: from,
      target: to,
      value,
      gas,
      data: req.data,
      custodial: true,
    });
    log.info(
      { id, userId: req.userId, from, to, selector: req.data.slice(0, 10), gas: gas.toString() },
      "relay request queued",
    );
    wake();
    return { id };
  }

  async function submitSigned(req: { userId: string; request: ForwardRequestData }): Promise<{ id: string }> {
    const r = req.request;
    const from = address(r.from, "from");
    const to = address(r.to, "to");
    let value: bigint, gas: bigint, deadline: bigint;
    try {
      [value, gas, deadline] = [BigInt(r.value), BigInt(r.gas), BigInt(r.deadline)];
    } catch {
      throw new RelayRejectedError("invalid_request", "value, gas and deadline must be integers");
    }
    checkCommon(req.userId, r.data, value);
    if (typeof r.signature !== "string" || !isHexString(r.signature, 65)) {
      throw new RelayRejectedError("invalid_request", "signature is not 65 bytes");
    }
    if (deadline >= 1n << 48n) throw new RelayRejectedError("invalid_request", "deadline does not fit uint48");
    if (deadline <= BigInt(Math.floor(Date.now() / 1000) + DEADLINE_SLACK_SECONDS)) {
      throw new RelayRejectedError("expired", "the request's deadline is past or too close");
    }
    await ensureAvailable();
    await ensureTrusted(to);
    const { domain } = await forwarderContext();
    chooseGas(gas, await simulate(from, to, r.data, value), r.data);
    const chainNonce = Number(await rpc("nonces", forwarder.nonces(from)));
    // From here on synchronous: no other request of this signer can take the same nonce.
    const held = store.maxHeldNonce(from);
    const nonce = Math.max(chainNonce, held === null ? 0 : held + 1);
    let recovered = "";
    try {
      recovered = verifyTypedData(
        domain,
        FORWARD_REQUEST_TYPES,
        { from, to, value, gas, nonce, deadline, data: r.data },
        r.signature,
      );
    } catch {
      // malformed signature: rejected below
    }
    if (recovered !== from) {
      throw new RelayRejectedError("invalid_signature", `the signature is not ${from}'s for forwarder nonce ${nonce}`);
    }
    const id = randomUUID();
    store.insertRequest({
      id,
      userId: req.userId,
      signer: from,
      target: to,
      value,
      gas,
      data: r.data,
      custodial: false,
      nonce,
      deadline: Number(deadline),
      signature: r.signature,
    });
    log.info({ id, userId: req.userId, from, to, nonce, selector: r.data.slice(0, 10) }, "signed relay request queued");
    wake();
    return { id };
  }

  // ---- settling -----------------------------------------------------------------------------

  function emitSettled(ids: Iterable<string>) {
    for (const id of ids) {
      const set = waiters.get(id);
      if (set !== undefined) for (const wake of [...set]) wake();
    }
  }

  /** What to do with a request that did not run: requeue it, or fail it when it cannot run any more. */
  function retryOrFail(row: RequestRow, settlements: Settlement[], requeue: string[]) {
    if (row.attempts + 1 >= opts.maxAttempts) {
      settlements.push({
        id: row.id,
        state: "failed",
        error: { code: "not_executed", message: `not executed after ${row.attempts + 1} attempts` },
      });
    } else if (row.custodial === 0 && (row.deadline ?? 0) <= Math.floor(Date.now() / 1000) + DEADLINE_SLACK_SECONDS) {
      settlements.push({
        id: row.id,
        state: "failed",
        error: { code: "expired", message: "the signed request expired" },
      });
    } else {
      requeue.push(row.id);
    }
  }

  /** Requests whose transaction carried no event for them: decide from the forwarder's nonce and logs. */
  async function resolveOneByOne(rows: RequestRow[], fromBlock: number, settlements: Settlement[], requeue: string[]) {
    for (const row of rows) {
      if (row.nonce === null) {
        requeue.push(row.id);
        continue;
      }
      const chainNonce = await rpc("nonces", forwarder.nonces(row.signer));
      if (chainNonce <= BigInt(row.nonce)) {
        retryOrFail(row, settlements, requeue); // its nonce is unused: it never ran
        continue;
      }
      const events = await rpc(
        "queryFilter",
        forwarder.queryFilter(forwarder.filters.ExecutedForwardRequest(row.signer), fromBlock, "latest"),
      );
      const ran = events.find((e) => e.args.nonce === BigInt(row.nonce!));
      if (ran === undefined) {
        settlements.push({
          id: row.id,
          state: "failed",
          error: { code: "indeterminate", message: "its nonce was used but no execution log was found" },
        });
      } else if (ran.args.success) {
        settlements.push({ id: row.id, state: "mined", txHash: ran.transactionHash, blockNumber: ran.blockNumber });
      } else {
        settlements.push({
          id: row.id,
          state: "failed",
          txHash: ran.transactionHash,
          blockNumber: ran.blockNumber,
          error: await failureReason(row, ran.blockNumber),
        });
      }
    }
  }

  /**
   * The forward requests a receipt executed, keyed "signer:nonce" from their
   * ExecutedForwardRequest events, with whether their call succeeded and the logs it emitted (those
   * between the previous request's event and its own).
   */
  function executionsIn(receipt: TransactionReceipt, forwarderAddress: string): Map<string, Execution> {
    const out = new Map<string, Execution>();
    let start = 0;
    for (let i = 0; i < receipt.logs.length; i++) {
      const l = receipt.logs[i];
      // ethers checksums the addresses of receipts and decoded arguments.
      if (l.topics[0] !== executedTopic || l.address !== forwarderAddress) continue;
      const args = executedArgs(l);
      out.set(`${args.signer}:${args.nonce}`, { success: args.success as boolean, logs: receipt.logs.slice(start, i) });
      start = i + 1;
    }
    return out;
  }

  // Recently settled transactions, cut per request: every request of a batch asks for its own slice
  // of the same receipt (logs(id)), which would otherwise fetch and cut it once per request.
  const recentReceipts = new Map<string, Map<string, Execution>>();
  function rememberReceipt(hash: string, executions: Map<string, Execution>): void {
    recentReceipts.set(hash, executions);
    if (recentReceipts.size > 64) recentReceipts.delete(recentReceipts.keys().next().value!);
  }

  /** The receipt of whichever version of a relayer transaction was mined, or null (all asked at once). */
  async function minedReceipt(tx: TxRow): Promise<TransactionReceipt | null> {
    const receipts = await Promise.all(
      store.attempts(tx.id).map((a) => rpc("getTransactionReceipt", provider.getTransactionReceipt(a.hash))),
    );
    return receipts.find((r) => r !== null) ?? null;
  }

  /** Settles a relayer transaction whose nonce the chain has passed (its receipt looked up unless given). */
  async function settleTx(tx: TxRow, found?: TransactionReceipt | null): Promise<void> {
    const { address: forwarderAddress } = await forwarderContext();
    const rows = store.requestsOfTx(tx.id);
    const settlements: Settlement[] = [];
    const requeue: string[] = [];
    const receipt = found !== undefined ? found : await minedReceipt(tx);
    const executions = receipt ? executionsIn(receipt, forwarderAddress) : undefined;
    if (receipt && executions) rememberReceipt(receipt.hash, executions);
    if (receipt === null) {
      // Another transaction took the nonce (ours were never mined).
      await resolveOneByOne(rows, tx.from_block, settlements, requeue);
      store.settleTx(tx.id, "dropped", settlements, requeue);
      log.warn(
        { txId: tx.id, nonce: tx.nonce, requests: rows.length },
        "relayer nonce used by another transaction: requests resolved one by one",
      );
    } else if (receipt.status !== 1) {
      for (const row of rows) retryOrFail(row, settlements, requeue); // a reverted transaction ran nothing
      store.settleTx(
        tx.id,
        { minedHash: receipt.hash, blockNumber: receipt.blockNumber, status: 0 },
        settlements,
        requeue,
      );
      log.warn(
        { txId: tx.id, txHash: receipt.hash, requests: rows.length },
        "relayer transaction reverted: requests requeued",
      );
    } else {
      const executed = executions!;
      const skipped: RequestRow[] = [];
      for (const row of rows) {
        const success = executed.get(`${row.signer}:${row.nonce}`)?.success;
        if (success === undefined) skipped.push(row);
        else if (success)
          settlements.push({ id: row.id, state: "mined", txHash: receipt.hash, blockNumber: receipt.blockNumber });
        else {
          settlements.push({
            id: row.id,
            state: "failed",
            txHash: receipt.hash,
            blockNumber: receipt.blockNumber,
            error: await failureReason(row, receipt.blockNumber),
          });
        }
      }
      await resolveOneByOne(skipped, tx.from_block, settlements, requeue);
      store.settleTx(
        tx.id,
        { minedHash: receipt.hash, blockNumber: receipt.blockNumber, status: 1 },
        settlements,
        requeue,
      );
      log.info(
        {
          txId: tx.id,
          txHash: receipt.hash,
          blockNumber: receipt.blockNumber,
          gasUsed: receipt.gasUsed.toString(),
          mined: settlements.filter((s) => s.state === "mined").length,
          failed: settlements.filter((s) => s.state === "failed").length,
          requeued: requeue.length,
        },
        "relayer transaction mined",
      );
    }
    emitSettled(rows.map((r) => r.id));
  }

  // ---- sending ------------------------------------------------------------------------------

  /** Broadcasts a signed version. A first version the node refuses for good is dropped and its nonce released. */
  async function broadcast(tx: { id: number; nonce: number }, raw: string, firstVersion: boolean): Promise<void> {
    try {
      await withTimeout("sendRawTransaction", provider.send("eth_sendRawTransaction", [raw]));
      store.setBroadcast(tx.id, true);
      return;
    } catch (err) {
      const { code, message } = describe(err);
      const lower = message.toLowerCase();
      if (
        !nodeAnswered(err) &&
        code !== "NONCE_EXPIRED" &&
        code !== "REPLACEMENT_UNDERPRICED" &&
        code !== "INSUFFICIENT_FUNDS"
      ) {
        store.setBroadcast(tx.id, false); // no answer: retried on the next round
        log.warn({ txId: tx.id, nonce: tx.nonce, code, message }, "broadcast failed: will retry");
        return;
      }
      if (
        lower.includes("already known") ||
        lower.includes("already imported") ||
        lower.includes("known transaction")
      ) {
        store.setBroadcast(tx.id, true);
        return;
      }
      // Nonce already used (settled once the chain shows it), or underpriced (replaced later): keep it.
      if (!firstVersion || code === "NONCE_EXPIRED" || code === "REPLACEMENT_UNDERPRICED") {
        store.setBroadcast(tx.id, true);
        log.warn({ txId: tx.id, nonce: tx.nonce, code, message }, "node refused a relayer transaction version");
        return;
      }
      // Refused for good (funds, fee cap, ...): the nonce was not used. Release it and requeue.
      const rows = store.requestsOfTx(tx.id);
      store.settleTx(
        tx.id,
        "dropped",
        [],
        rows.map((r) => r.id),
        false,
      );
      if (store.nextNonce(relayerAddress) === tx.nonce + 1) store.setNextNonce(relayerAddress, tx.nonce);
      pauseUntil = Date.now() + 5_000;
      log.warn(
        { txId: tx.id, nonce: tx.nonce, code, message, requests: rows.length },
        "node refused a relayer transaction: requests requeued",
      );
    }
  }

  // When each pending transaction was last looked for in the node's pool, by relayer transaction id.
  const poolChecks = new Map<number, number>();

  /**
   * A node that restarted (or evicted it) no longer knows a pending transaction: send the signed
   * version again at once instead of waiting for the replacement timer. Looked for at most every
   * POOL_CHECK_MS per transaction, and only once it has been pending that long.
   */
  async function rebroadcastIfForgotten(tx: TxRow): Promise<void> {
    const now = Date.now();
    if (now - tx.last_sent_at < POOL_CHECK_MS || now - (poolChecks.get(tx.id) ?? 0) < POOL_CHECK_MS) return;
    poolChecks.set(tx.id, now);
    if (poolChecks.size > 256) poolChecks.delete(poolChecks.keys().next().value!);
    const latest = store.attempts(tx.id).at(-1)!;
    const known = await rpc("getTransaction", provider.send("eth_getTransactionByHash", [latest.hash]));
    if (known !== null) return;
    log.warn(
      { txId: tx.id, nonce: tx.nonce, txHash: latest.hash },
      "the node forgot a pending relayer transaction: sent again",
    );
    await broadcast(tx, latest.raw, false);
  }

  async function replace(tx: TxRow): Promise<void> {
    const attempts = store.attempts(tx.id);
    const last = attempts[attempts.length - 1];
    const prev = Transaction.from(last.raw);
    const fees = await rpc("getFeeData", provider.getFeeData());
    const next: RelayerTxFields = {
      type: prev.type === 2 ? 2 : 0,
      chainId: prev.chainId,
      nonce: prev.nonce,
      to: prev.to!,
      data: prev.data,
      value: prev.value,
      gasLimit: prev.gasLimit,
    };
    if (next.type === 2) {
      next.maxPriorityFeePerGas = maxBig(bump(prev.maxPriorityFeePerGas ?? 0n), fees.maxPriorityFeePerGas ?? 0n);
      next.maxFeePerGas = maxBig(bump(prev.maxFeePerGas ?? 0n), fees.maxFeePerGas ?? 0n, next.maxPriorityFeePerGas);
    } else {
      next.gasPrice = maxBig(bump(prev.gasPrice ?? 0n), fees.gasPrice ?? 0n);
    }
    const { raw, hash } = signRelayerTransaction(deps.relayer.signingKey, next);
    store.recordReplacement(tx.id, {
      hash,
      raw,
      maxFeePerGas: next.maxFeePerGas as bigint | undefined,
      maxPriorityFeePerGas: next.maxPriorityFeePerGas as bigint | undefined,
      gasPrice: next.gasPrice as bigint | undefined,
    });
    log.info(
      {
        txId: tx.id,
        nonce: tx.nonce,
        txHash: hash,
        replaces: last.hash,
        maxFeePerGas: next.maxFeePerGas?.toString(),
        gasPrice: next.gasPrice?.toString(),
      },
      "relayer transaction not mined in time: replaced with higher fees",
    );
    await broadcast(tx, raw, false);
  }

  /** Sends one batch of queued requests. Returns false when there was nothing to send. */
  async function sendNext(): Promise<boolean> {
    const rows = store.queued(opts.maxBatch * 4);
    if (rows.length === 0) return false;
    const { address: forwarderAddress, chainId, domain } = await forwarderContext();
    const signers = [...new Set(rows.map((r) => r.signer))];
    const chainNonces = await forwarderNonces(signers);
    const nextNonce = new Map<string, number>();
    for (const s of signers) {
      const sent = store.maxSentNonce(s);
      nextNonce.set(s, Math.max(chainNonces.get(s)!, sent === null ? 0 : sent + 1));
    }
    const memberSigned = new Set(rows.filter((r) => r.custodial === 0).map((r) => r.signer));
    const blocked = new Set<string>();
    const nowSec = Math.floor(Date.now() / 1000);
    const terminal: Settlement[] = [];
    const picked: { row: RequestRow; nonce: number }[] = [];
    let gasLimit = TX_OVERHEAD;
    for (const row of rows) {
      if (picked.length >= opts.maxBatch) break;
      if (blocked.has(row.signer)) continue;
      const n = nextNonce.get(row.signer)!;
      if (row.custodial === 1) {
        if (memberSigned.has(row.signer)) continue; // the member's own requests first
      } else if (row.nonce! < chainNonces.get(row.signer)!) {
        terminal.push({
          id: row.id,
          state: "failed",
          error: { code: "nonce_used", message: "its forwarder nonce was used by another request" },
        });
        continue;
      } else if ((row.deadline ?? 0) <= nowSec + DEADLINE_SLACK_SECONDS) {
        terminal.push({
          id: row.id,
          state: "failed",
          error: { code: "expired", message: "the signed request expired" },
        });
        continue;
      } else if (row.nonce !== n) {
        blocked.add(row.signer); // waits for an earlier request of the same signer
        continue;
      }
      const cost = requestCost(BigInt(row.gas), dataLength(row.data));
      if (gasLimit + cost > TX_GAS_CAP) break;
      gasLimit += cost;
      nextNonce.set(row.signer, n + 1);
      picked.push({ row, nonce: n });
    }
    for (const t of terminal) store.settle(t);
    if (terminal.length > 0) emitSettled(terminal.map((t) => t.id));
    if (picked.length === 0) return terminal.length > 0;

    // Custody signs now, with the nonces just assigned.
    const deadline = nowSec + opts.requestTtlSeconds;
    const signed = await Promise.all(
      picked.map(async ({ row, nonce }) => {
        if (row.custodial === 0) return { row, nonce, deadline: row.deadline!, signature: row.signature! };
        const message = {
          from: row.signer,
          to: row.target,
          value: BigInt(row.value),
          gas: BigInt(row.gas),
          nonce: BigInt(nonce),
          deadline: BigInt(deadline),
          data: row.data,
        };
        try {
          const signature = await deps.signTypedData(row.user_id, row.signer, domain, FORWARD_REQUEST_TYPES, message);
          return { row, nonce, deadline, signature };
        } catch (err) {
          return { row, nonce, failure: `custody could not sign: ${describe(err).message}` };
        }
      }),
    );
    const failures = signed.filter((s) => "failure" in s);
    if (failures.length > 0) {
      // Nothing was recorded yet, so the nonces assigned above are simply not used.
      for (const f of failures) {
        store.settle({ id: f.row.id, state: "failed", error: { code: "signing_failed", message: f.failure! } });
        log.warn({ id: f.row.id, userId: f.row.user_id, reason: f.failure }, "relay request not signed");
      }
      emitSettled(failures.map((f) => f.row.id));
      return true;
    }
    const batch = signed as { row: RequestRow; nonce: number; deadline: number; signature: string }[];
    const requests = batch.map((s) => ({
      from: s.row.signer,
      to: s.row.target,
      value: BigInt(s.row.value),
      gas: BigInt(s.row.gas),
      deadline: BigInt(s.deadline),
      data: s.row.data,
      signature: s.signature,
    }));
    const value = requests.reduce((sum, r) => sum + r.value, 0n);
    const data = encodeCall(Forwarder__factory.abi, "executeBatch", [requests, relayerAddress]);

    const { fees, blockNumber: fromBlock } = await currentPrices();
    let nonce = store.nextNonce(relayerAddress);
    if (nonce === undefined) {
      nonce = await rpc("getTransactionCount", provider.getTransactionCount(relayerAddress, "pending"));
      store.setNextNonce(relayerAddress, nonce);
    }
    const eip1559 = fees.maxFeePerGas !== null && fees.maxPriorityFeePerGas !== null;
    const txRequest: RelayerTxFields = eip1559
      ? {
          type: 2,
          chainId,
          nonce,
          to: forwarderAddress,
          data,
          value,
          gasLimit,
          maxFeePerGas: fees.maxFeePerGas,
          maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
        }
      : { type: 0, chainId, nonce, to: forwarderAddress, data, value, gasLimit, gasPrice: fees.gasPrice ?? 0n };
    const { raw, hash } = signRelayerTransaction(deps.relayer.signingKey, txRequest);
    const txId = store.recordSent({
      relayer: relayerAddress,
      nonce,
      gasLimit,
      value,
      fromBlock,
      attempt: {
        hash,
        raw,
        maxFeePerGas: fees.maxFeePerGas,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
        gasPrice: txRequest.type === 0 ? fees.gasPrice : null,
      },
      requests: batch.map((s) => ({ id: s.row.id, nonce: s.nonce, deadline: s.deadline, signature: s.signature })),
    });
    if (txId === undefined) {
      log.warn({ nonce }, "relayer nonce taken meanwhile by another process: batch not sent");
      return false;
    }
    log.info(
      {
        txId,
        txHash: hash,
        nonce,
        requests: batch.length,
        gasLimit: gasLimit.toString(),
        ids: batch.map((s) => s.row.id),
      },
      "relayer transaction sent",
    );
    await broadcast({ id: txId, nonce }, raw, true);
    return true;
  }

  // ---- loop ---------------------------------------------------------------------------------

  /** Runs tick and recover one at a time. */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = lock.then(fn, fn);
    lock = run.catch(() => undefined);
    return run;
  }

  function wake() {
    wakeRequested = true;
    wakeSleep?.();
  }

  async function tick(): Promise<void> {
    const open = store.openTxs(relayerAddress);
    if (open.length > 0) {
      const receiptOf = new Map<number, TransactionReceipt | null>();
      let mined: number;
      if (opts.eagerReceipts) {
        // A node that mines on arrival has the receipts already: ask for them with the mined nonce,
        // in one round trip. A receipt proves its transaction mined.
        const broadcast = open.filter((tx) => tx.broadcast === 1);
        const [count, receipts] = await Promise.all([
          rpc("getTransactionCount", provider.getTransactionCount(relayerAddress, "latest")),
          Promise.all(broadcast.map((tx) => minedReceipt(tx))),
        ]);
        mined = count;
        broadcast.forEach((tx, i) => receipts[i] !== null && receiptOf.set(tx.id, receipts[i]));
      } else {
        mined = await rpc("getTransactionCount", provider.getTransactionCount(relayerAddress, "latest"));
        // The receipts of every transaction to settle are asked for together; settling stays in order.
        const settleable = open.filter((tx) => tx.nonce < mined);
        const receipts = await Promise.all(settleable.map((tx) => minedReceipt(tx)));
        settleable.forEach((tx, i) => receiptOf.set(tx.id, receipts[i]));
      }
      for (const tx of open) {
        const inHand = receiptOf.get(tx.id);
        if (inHand) {
          missingReceiptSince.delete(tx.id);
          await settleTx(tx, inHand);
        } else if (tx.nonce < mined) {
          // The node counts the nonce as used but shows no receipt for any version of ours: either
          // another transaction took the nonce, or the node has not finished storing the block that
          // mined ours (anvil answers the new account nonce a moment before the block and its
          // receipts, and a forwarder nonce read then is still the old one). Concluding at once
          // would re-sign requests that did run: wait until the answer has held for a while.
          const receipt = await minedReceipt(tx);
          const since = missingReceiptSince.get(tx.id);
          if (receipt !== null) {
            missingReceiptSince.delete(tx.id);
            await settleTx(tx, receipt);
          } else if (since === undefined) {
            missingReceiptSince.set(tx.id, Date.now());
          } else if (Date.now() - since >= NONCE_USED_GRACE_MS) {
            missingReceiptSince.delete(tx.id);
            await settleTx(tx, null);
          }
        } else if (tx.broadcast === 0) await broadcast(tx, store.attempts(tx.id).at(-1)!.raw, false);
        else if (Date.now() - tx.last_sent_at >= opts.replaceAfterMs) await replace(tx);
        else await rebroadcastIfForgotten(tx);
      }
    }
    for (let i = 0; running && i < 16 && Date.now() >= pauseUntil; i++) {
      if (store.openTxs(relayerAddress).length >= opts.maxInFlight) break;
      if (!(await sendNext())) break;
    }
  }

  async function loop(): Promise<void> {
    let delay = opts.pollMs;
    while (running) {
      wakeRequested = false;
      try {
        await exclusive(tick);
        // While a transaction is in flight, look again soon: on a local node it is mined at once.
        delay = store.openTxs(relayerAddress).length > 0 ? opts.inFlightPollMs : opts.pollMs;
      } catch (err) {
        log.warn(describe(err), "relayer round failed: retrying");
        delay = Math.min(delay * 2, 5_000);
      }
      if (!running || wakeRequested) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          wakeSleep = undefined;
          resolve();
        }
        wakeSleep = done;
      });
    }
  }

  async function recover(): Promise<void> {
    const open = store.openTxs(relayerAddress);
    const mined = await rpc("getTransactionCount", provider.getTransactionCount(relayerAddress, "latest"));
    let rebroadcast = 0;
    for (const tx of open) {
      if (tx.nonce < mined) await settleTx(tx);
      else {
        await broadcast(tx, store.attempts(tx.id).at(-1)!.raw, false);
        rebroadcast++;
      }
    }
    const pending = await rpc("getTransactionCount", provider.getTransactionCount(relayerAddress, "pending"));
    const stillOpen = store.openTxs(relayerAddress);
    const next = Math.max(pending, stillOpen.length > 0 ? stillOpen[stillOpen.length - 1].nonce + 1 : 0);
    const before = store.nextNonce(relayerAddress);
    if (before !== next) store.setNextNonce(relayerAddress, next);
    log.info(
      {
        relayer: relayerAddress,
        open: open.length,
        rebroadcast,
        nonceBefore: before ?? null,
        nonce: next,
        ...store.depth(),
      },
      "relayer outbox reconciled with the chain",
    );
  }

  // ---- reading ------------------------------------------------------------------------------

  function toStatus(row: RequestRow): OperationStatus {
    const status: OperationStatus = {
      id: row.id,
      userId: row.user_id,
      state: row.state,
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
    const hashes = row.tx_id === null ? [] : store.attempts(row.tx_id).map((a) => a.hash);
    if (row.tx_hash !== null) status.txHash = row.tx_hash;
    else if (row.state === "sent" && hashes.length > 0) status.txHash = hashes[hashes.length - 1];
    if (hashes.length > 0) status.txHashes = hashes;
    if (row.block_number !== null) status.blockNumber = row.block_number;
    if (row.error_code !== null) {
      status.error = { code: row.error_code, message: row.error_message ?? "" };
      if (row.error_decoded !== null) status.error.decoded = JSON.parse(row.error_decoded) as DecodedError;
    }
    return status;
  }

  function status(id: string): OperationStatus | undefined {
    const row = store.request(id);
    return row === undefined ? undefined : toStatus(row);
  }

  return {
    submit,
    submitSigned,
    status,

    async logs(id: string): Promise<Log[]> {
      const row = store.request(id);
      if (row === undefined || row.state !== "mined" || row.tx_hash === null || row.nonce === null) return [];
      let slices = recentReceipts.get(row.tx_hash);
      if (slices === undefined) {
        const receipt = await rpc("getTransactionReceipt", provider.getTransactionReceipt(row.tx_hash));
        if (receipt === null) return [];
        slices = executionsIn(receipt, (await forwarderContext()).address);
      }
      return slices.get(`${row.signer}:${row.nonce}`)?.logs ?? [];
    },

    async waitFor(id: string, timeoutMs: number): Promise<OperationStatus> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const current = status(id);
        if (current === undefined) throw new Error(`unknown relay request ${id}`);
        if (current.state === "mined" || current.state === "failed") return current;
        const left = end - Date.now();
        if (left <= 0) return current;
        // Settled by this instance (woken by id) or by another one on the same file (poll).
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(left, WAIT_POLL_MS));
          let set = waiters.get(id);
          if (set === undefined) waiters.set(id, (set = new Set()));
          set.add(done);
          function done() {
            clearTimeout(timer);
            set!.delete(done);
            if (set!.size === 0 && waiters.get(id) === set) waiters.delete(id);
            resolve();
          }
        });
      }
    },

    async start(): Promise<void> {
      if (running) return;
      await exclusive(recover);
      running = true;
      loopDone = loop();
    },

    async stop(): Promise<void> {
      running = false;
      wake();
      await loopDone;
      loopDone = undefined;
    },

    recover: () => exclusive(recover),
    depth: () => store.depth(),
    balance: () => rpc("getBalance", provider.getBalance(relayerAddress)),
  };
}
