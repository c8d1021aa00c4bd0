/**
 * Where the gateway stands against the chain, for GET /health and the pages' "checked on the
 * blockchain": the node's head and time, whether the escrow has code, how far the index has followed,
 * the relayer's balance and queue.
 */
import type { ChainClient } from "../chain/client";
import type { DeploymentFile } from "../chain/deploy";
import type { Indexer, IndexerStatus } from "../index";
import type { Relayer, RelayerProgress } from "../relayer";

export interface NetworkService {
  readonly chainId: number;
  /** The deployment file: the contracts' addresses and deployment blocks on this chain. */
  readonly deployment: DeploymentFile;
  /** The node's latest block number (throws when the node cannot be reached). */
  head(): Promise<number>;
  /** The latest block's time in unix seconds; the local clock when the node has no latest block. */
  chainNow(): Promise<number>;
  /** Whether the escrow's recorded address has code on this chain. */
  escrowDeployed(): Promise<boolean>;
  indexStatus(): Promise<IndexerStatus>;
  /** The last block whose events the index holds (no node call). */
  indexedBlock(): number;
  /**
   * The relayer's balance (wei, decimal), the requests it holds queued and sent, and whether it makes
   * progress while the chain does (stalled: GET /health answers 503).
   */
  relayer(): Promise<{ balanceWei: string; queued: number; sent: number } & RelayerProgress>;
}

export interface NetworkDeps {
  chainId: number;
  client: Pick<ChainClient, "getBlockNumber" | "getBlock" | "getCode">;
  deployment: DeploymentFile;
  indexer: Pick<Indexer, "status" | "indexedBlock">;
  relayer: Pick<Relayer, "balance" | "depth" | "progress">;
}

export function createNetworkService(deps: NetworkDeps): NetworkService {
  const { client, indexer, relayer } = deps;
  return {
    chainId: deps.chainId,
    deployment: deps.deployment,
    head: () => client.getBlockNumber(),
    chainNow: async () => (await client.getBlock("latest"))?.timestamp ?? Math.floor(Date.now() / 1000),
    escrowDeployed: async () => (await client.getCode(deps.deployment.contracts.SaleEscrow.address)) !== "0x",
    indexStatus: () => indexer.status(),
    indexedBlock: () => indexer.indexedBlock(),
    relayer: async () => {
      const [balance, progress] = await Promise.all([relayer.balance(), relayer.progress()]);
      return { balanceWei: balance.toString(), ...relayer.depth(), ...progress };
    },
  };
}
