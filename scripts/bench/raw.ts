/**
 * The raw ceiling: ethers sending `BatchRegistry.registerBatch` straight to a fresh anvil (started
 * as the gateway starts its own: same flags and state file), one call per
 * transaction, from anvil's 10 funded accounts, all members of one cooperative. Each signer is
 * sequential (send, wait for the receipt, next) with its own nonce; the 10 run in parallel. The
 * provider is ethers' stock JsonRpcProvider with the gateway's options (scripts/ethers-provider.ts
 * `createStockProvider`): the gateway's own lighter HTTP transport is not lent to the ceiling.
 *
 * Two ways to send:
 *  - "tuned": nonce counted locally, gas limit and fees taken once per signer, and the receipt asked
 *    every 5 ms from right after the send (anvil's automine answers the send before the block exists,
 *    so ethers' `tx.wait()` would sleep a polling interval, 100 ms with the provider's default):
 *    per transaction only eth_sendRawTransaction and eth_getTransactionReceipt. This is the ceiling.
 *  - "defaults": `contract.registerBatch(...)` then `tx.wait()`, as most code writes it: ethers asks
 *    the node for the nonce, a gas estimate and fees before each send, and waits for the receipt by
 *    polling at the provider's interval.
 */
import { MAX_LOT_BYTES, textToWord } from "../../domain/words";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { HDNodeWallet, Mnemonic, ZeroHash, id, type JsonRpcProvider } from "ethers";
import { ANVIL_MNEMONIC, startEmbeddedChain, type EmbeddedChain } from "../../server/chain/embedded";
import { createStockProvider } from "../ethers-provider";
import { deployCoopTrace } from "../ethers-deploy";
import type { BatchRegistry } from "../../typechain-types";
import { batchFields } from "./load";

export interface RawChain {
  chain: EmbeddedChain;
  provider: JsonRpcProvider;
  wallets: HDNodeWallet[];
  /** Each wallet's account index in the registry (contributors are named by it). */
  indices: Map<string, bigint>;
  batches: BatchRegistry;
  batchesAddress: string;
  cooperativeId: number;
  stop(): Promise<void>;
}

export interface RawResult {
  mode: "tuned" | "defaults";
  seconds: number;
  latenciesMs: number[];
  errors: number;
  firstError?: string;
}

export async function startRawChain(): Promise<RawChain> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "cooptrace-bench-raw-"));
  let chain: EmbeddedChain | undefined;
  let provider: JsonRpcProvider | undefined;
  const stop = async () => {
    provider?.destroy();
    await chain?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    chain = await startEmbeddedChain({ dataDir });
    provider = createStockProvider(chain.rpcUrl, chain.chainId);
    const p = provider;
    const wallets = Array.from({ length: 10 }, (_, i) =>
      HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), `m/44'/60'/0'/0/${i}`).connect(p),
    );
    const admin = wallets[0];
    const deployed = await deployCoopTrace(admin, { registrars: [admin.address] });
    await (
      await deployed.registry.registerCooperative("Bench raw", "Erfoud", "BENCH-RAW-1", admin.address, 1000, false)
    ).wait();
    const cooperativeId = Number(await deployed.registry.cooperativeCount());
    for (const w of wallets) await (await deployed.registry.addMember(cooperativeId, w.address, id(w.address))).wait();
    const indices = new Map<string, bigint>();
    for (const w of wallets) indices.set(w.address, await deployed.registry.indexOf(w.address));
    return {
      chain,
      provider,
      wallets,
      indices,
      batches: deployed.batches,
      batchesAddress: await deployed.batches.getAddress(),
      cooperativeId,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function info(lotCode: string) {
  const f = batchFields(lotCode);
  return {
    productCode: textToWord(f.productCode),
    gtin: 0n,
    lotCode: textToWord(f.lotCode, MAX_LOT_BYTES),
    quantity: BigInt(f.quantity),
    unit: textToWord(f.unit),
    origin: f.origin,
    productionDate: BigInt(Math.floor(Date.parse(f.productionDate) / 1000)),
    metadataHash: ZeroHash,
  };
}

async function pollReceipt(provider: JsonRpcProvider, hash: string) {
  const end = Date.now() + 30_000;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt !== null) return receipt;
    if (Date.now() > end) throw new Error(`no receipt for ${hash} within 30 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function runRaw(
  raw: RawChain,
  mode: "tuned" | "defaults",
  seconds: number,
  nextLot: () => string,
): Promise<RawResult> {
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const fees = await raw.provider.getFeeData();
  // Prepared per signer before the clock starts (the "tuned" sender's one-off reads).
  const prepared = await Promise.all(
    raw.wallets.map(async (w) => {
      // One contributor, packed: her account index << 64 | weight (see IBatchRegistry).
      const contributors = [(raw.indices.get(w.address)! << 64n) | 1000n];
      const estimate = await raw.batches
        .connect(w)
        .registerBatch.estimateGas(raw.cooperativeId, info("ESTIMATE-LOT-0000000"), contributors);
      return {
        w,
        contributors,
        nonce: await raw.provider.getTransactionCount(w.address, "pending"),
        gasLimit: (estimate * 13n) / 10n,
      };
    }),
  );
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    prepared.map(async (s) => {
      const contract = raw.batches.connect(s.w);
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const args: [number, ReturnType<typeof info>, bigint[]] = [
            raw.cooperativeId,
            info(nextLot()),
            s.contributors,
          ];
          const tx =
            mode === "defaults"
              ? await contract.registerBatch(...args)
              : await s.w.sendTransaction({
                  to: raw.batchesAddress,
                  data: raw.batches.interface.encodeFunctionData("registerBatch", args),
                  nonce: s.nonce,
                  gasLimit: s.gasLimit,
                  type: 2,
                  chainId: raw.chain.chainId,
                  maxFeePerGas: fees.maxFeePerGas! * 2n,
                  maxPriorityFeePerGas: fees.maxPriorityFeePerGas!,
                });
          s.nonce++;
          const receipt = mode === "defaults" ? await tx.wait() : await pollReceipt(raw.provider, tx.hash);
          if (receipt === null || receipt.status !== 1) throw new Error("reverted");
          latenciesMs.push(performance.now() - t0);
        } catch (err) {
          errors++;
          firstError ??= (err as { shortMessage?: string }).shortMessage ?? (err as Error).message;
          s.nonce = await raw.provider.getTransactionCount(s.w.address, "pending");
        }
      }
    }),
  );
  return { mode, seconds: (performance.now() - start) / 1000, latenciesMs, errors, firstError };
}
