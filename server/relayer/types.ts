/**
 * The relayer's public types (what the gateway passes in and reads back) and its options with
 * their defaults. The modules of the relayer share them; none of them imports relayer.ts.
 */
import type { ChainClient, ChainLog } from "../chain/client";
import type { TypedDataDomain, TypedDataField } from "../chain/typedData";

export type { TypedDataDomain, TypedDataField };
import type { Logger } from "../log";
import type { Db } from "../store/db";
import type { Role } from "../custody/users";
import type { DecodedError } from "./errors";
import type { RelayPolicy } from "./policy";
import type { RequestStage, RequestState, VersionState } from "./states";

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

export interface OperationStatus {
  id: string;
  userId: string;
  /** queued, sent, mined or failed (states.ts): what the API's clients wait on. */
  state: RequestState;
  /** The state with one later step: `confirmed` once mined at the configured depth (states.ts). */
  stage: RequestStage;
  /** The transaction that executed the request once settled; while sent, the latest broadcast version. */
  txHash?: string;
  /** Every hash of the relayer transaction that carries it (original and replacements). */
  txHashes?: string[];
  /** The same versions, oldest first, each with its state (sent, replaced, mined, dropped). */
  transactions?: { hash: string; state: VersionState }[];
  blockNumber?: number;
  /**
   * Times a chain reorganisation took back the block that had settled it (absent when never): it was
   * sent again, and what it answered then (ids in its events) is only true once it is mined again.
   */
  reorgs?: number;
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
  /**
   * Gas the relayer accepts per user and UTC day: the sum of the gas limits of the user's requests
   * (USER_DAILY_GAS). Default 100,000,000.
   */
  userDailyGas?: bigint;
  /**
   * Blocks on top of a mined request's block before its stage is `confirmed` (CONFIRMATIONS, the
   * index's depth). Default 0: mined is confirmed.
   */
  confirmations?: number;
  /**
   * The relayer is reported stalled (progress(), GET /health) when its oldest pending request is older
   * than this and nothing settled for as long while the chain's head moved. Default 120 s.
   */
  stallAfterMs?: number;
}

/** Whether the relayer makes progress (GET /health). */
export interface RelayerProgress {
  /** Requests queued or sent. */
  pending: number;
  /** Age of the oldest of them (s), or null. */
  oldestPendingSeconds: number | null;
  /** Pending requests older than stallAfterMs, nothing settled for as long, and the chain's head moved meanwhile. */
  stalled: boolean;
}

export type ResolvedOptions = Required<RelayerOptions>;

export function resolveOptions(o: RelayerOptions = {}): ResolvedOptions {
  return {
    maxBatch: o.maxBatch ?? 20,
    pollMs: o.pollMs ?? 100,
    inFlightPollMs: o.inFlightPollMs ?? o.pollMs ?? 100,
    eagerReceipts: o.eagerReceipts ?? false,
    replaceAfterMs: o.replaceAfterMs ?? 30_000,
    minBalanceWei: o.minBalanceWei ?? 10n ** 16n,
    requestTtlSeconds: o.requestTtlSeconds ?? 3600,
    maxInFlight: o.maxInFlight ?? 4,
    maxAttempts: o.maxAttempts ?? 5,
    rpcTimeoutMs: o.rpcTimeoutMs ?? 10_000,
    userDailyGas: o.userDailyGas ?? 100_000_000n,
    confirmations: o.confirmations ?? 0,
    stallAfterMs: o.stallAfterMs ?? 120_000,
  };
}

/** Signs as `userId`, whose key must be `signer`'s (custody checks it and throws otherwise). */
export type SignTypedData = (
  userId: string,
  signer: string,
  domain: TypedDataDomain,
  types: Record<string, TypedDataField[]>,
  value: Record<string, unknown>,
) => Promise<string>;

export interface RelayerDeps {
  db: Db;
  client: ChainClient;
  /** The forwarder's address (the deployment's). */
  forwarder: string;
  /** The paying account: its address and private key (0x hex), which signs the relayer's transactions. */
  relayer: { address: string; privateKey: string };
  /**
   * Signs as `userId`, whose key must be `signer`'s (custody checks it and throws otherwise: the
   * relayer does not recover the signature again).
   */
  signTypedData: SignTypedData;
  log: Logger;
  /** What the relayer pays for, per role (createRelayPolicy of the deployment). */
  policy: RelayPolicy;
  options?: RelayerOptions;
}

export interface SubmitRequest {
  userId: string;
  /** The caller's role: the allow-list decides by it what the relayer pays for. */
  role: Role;
  from: string;
  to: string;
  data: string;
  value?: bigint;
  gas?: bigint;
}

export interface SignedSubmission {
  userId: string;
  role: Role;
  request: ForwardRequestData;
}

export interface Relayer {
  submit(req: SubmitRequest): Promise<{ id: string }>;
  submitSigned(req: SignedSubmission): Promise<{ id: string }>;
  status(id: string): OperationStatus | undefined;
  logs(id: string): Promise<ChainLog[]>;
  waitFor(id: string, timeoutMs: number): Promise<OperationStatus>;
  start(): Promise<void>;
  stop(): Promise<void>;
  recover(): Promise<void>;
  depth(): { queued: number; sent: number };
  /** Whether the relayer makes progress while the chain does (asks the node for its head). */
  progress(): Promise<RelayerProgress>;
  balance(): Promise<bigint>;
}
