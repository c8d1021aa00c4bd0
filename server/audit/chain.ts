/**
 * Chain facts for audits, read through the independent verifier (server/verifier): the same
 * JSON-RPC-only collection (eth_getLogs, eth_call at one pinned block) and the same checks the
 * `cooptrace verify` CLI runs, called in-process. One reader per request memoizes a snapshot per
 * batch, so a cooperative audit reads each batch once.
 */
import { getAddress } from "viem";
import type { ChainClient } from "../chain/client";
import type { DeploymentFile } from "../chain/deploy";
import { CONTRACT_NAMES, collect, type Deployment, type Snapshot } from "../verifier/collect";
import { runChecks, type Check } from "../verifier/checks";
import { RpcClient } from "../verifier/rpc";

export interface BatchFacts {
  snap: Snapshot;
  checks: Check[];
}

export interface ChainReader {
  batch(batchId: string): Promise<BatchFacts>;
  /** Unix seconds of a block (from the node). */
  blockTime(blockNumber: number): Promise<number>;
  rpcUrl: string;
}

/** The gateway's deployment file in the verifier's shape. */
export function verifierDeployment(file: DeploymentFile): Deployment {
  const contracts = {} as Deployment["contracts"];
  for (const name of CONTRACT_NAMES) {
    const c = file.contracts[name];
    contracts[name] = { address: getAddress(c.address), blockNumber: Number(c.blockNumber ?? 0) };
  }
  return { source: `deployments/${file.chainId}.json`, chainId: file.chainId, contracts };
}

export interface ChainReaderDeps {
  deployment: DeploymentFile;
  /** The node the verifier reads, over its own JSON-RPC client. */
  rpcUrl: string;
  /** Block times (the same node). */
  client: Pick<ChainClient, "getBlock">;
}

export function createChainReader(deps: ChainReaderDeps): ChainReader {
  const rpc = new RpcClient(deps.rpcUrl);
  const deployment = verifierDeployment(deps.deployment);
  const batches = new Map<string, Promise<BatchFacts>>();
  const times = new Map<number, Promise<number>>();
  return {
    rpcUrl: deps.rpcUrl,
    batch(batchId) {
      const id = batchId.toLowerCase();
      let p = batches.get(id);
      if (p === undefined) {
        p = collect(rpc, deployment, { kind: "batchId", input: id, batchId: id }).then((snap) => ({
          snap,
          checks: runChecks(snap),
        }));
        batches.set(id, p);
      }
      return p;
    },
    blockTime(n) {
      let p = times.get(n);
      if (p === undefined) {
        p = deps.client.getBlock(n).then((b) => {
          if (b === null) throw new Error(`block ${n} not found`);
          return b.timestamp;
        });
        times.set(n, p);
      }
      return p;
    },
  };
}
