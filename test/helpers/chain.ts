/**
 * A real chain for gateway tests: anvil (from @foundry-rs/anvil) in a temporary folder, with the
 * CoopTrace contracts deployed through the one deploy path. Each call starts its own node.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { HDNodeWallet, Mnemonic, type Wallet } from "ethers";
import { ANVIL_MNEMONIC, startEmbeddedChain, type EmbeddedChain } from "../../server/chain/embedded";
import { createProvider } from "../../scripts/ethers-provider";
import { createChainClient, type ChainClient } from "../../server/chain/client";
import type { DeployOptions } from "../../server/chain/deploy";
import { deployCoopTrace, type Deployed } from "../../scripts/ethers-deploy";
import { TEST_BLOCK_TIME } from "./chainMode";
import { MockStablecoin__factory, type MockStablecoin } from "../../typechain-types";

export interface TestChain {
  dataDir: string;
  chain: EmbeddedChain;
  /** The test's own ethers provider. */
  provider: ReturnType<typeof createProvider>;
  /** The gateway's client (viem) of the same node, for the gateway's parts under test. */
  client: ChainClient;
  /** anvil's ten funded accounts; [0] deployed the contracts and is the platform admin. */
  wallets: HDNodeWallet[];
  deployed: Deployed;
  stablecoin: MockStablecoin;
  /** Stops anvil and removes the folder (unless keepDir). */
  stop(keepDir?: boolean): Promise<void>;
}

export function anvilWallet(index: number): HDNodeWallet {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), `m/44'/60'/0'/0/${index}`);
}

export async function startTestChain(
  options: {
    dataDir?: string;
    deploy?: DeployOptions;
    /** Default: the suite's chain mode. */ blockTime?: number;
  } = {},
): Promise<TestChain> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), "cooptrace-test-"));
  const chain = await startEmbeddedChain({ dataDir, blockTime: options.blockTime ?? TEST_BLOCK_TIME });
  const provider = createProvider(chain.rpcUrl, chain.chainId, 20);
  const client = createChainClient(chain.rpcUrl, chain.chainId, 20);
  const wallets = Array.from({ length: 10 }, (_, i) => anvilWallet(i).connect(provider));
  const stablecoin = await new MockStablecoin__factory(wallets[0]).deploy("Demo Dirham Stablecoin", "DMAD");
  await stablecoin.waitForDeployment();
  const deployed = await deployCoopTrace(wallets[0], {
    allowedTokens: [await stablecoin.getAddress()],
    ...options.deploy,
  });
  return {
    dataDir,
    chain,
    provider,
    client,
    wallets,
    deployed,
    stablecoin,
    async stop(keepDir = false) {
      provider.destroy();
      client.destroy();
      await chain.stop();
      if (!keepDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type { Wallet };
