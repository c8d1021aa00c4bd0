/**
 * Shared fixtures for the contract tests. Each test file wraps the one it needs in loadFixture.
 */
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { deployCoopTrace } from "../../scripts/ethers-deploy";
import { buildContributorTree, type Contributor, type ContributorTree, type IndexOf } from "../../domain/contributors";
import type { IBatchRegistry } from "../../typechain-types";

export const DAY = 24 * 3600;
export const RESERVE_BPS = 1_000n; // 10% to the cooperative reserve
export const FEE_BPS = 200n; // 2% platform fee

export function referenceHash(label: string): string {
  return ethers.id(`member-ref:${label}`);
}

/** A 32-byte word: `0x` and 64 hex digits. */
const WORD = /^0x[0-9a-fA-F]{64}$/;

/**
 * `text` as the registry's padded word (UTF-8, left-aligned, zero bytes after), without the
 * registry's rules, so that tests can send what it must refuse: "" is the zero word, a 21-byte lot
 * code fills more than its 20 bytes. A value that already is a word (`0x` and 64 hex digits) is
 * kept, so an `info` read back from a fixture can be passed again. Throws past 32 bytes (no word holds it).
 */
export function word(text: string): string {
  if (WORD.test(text)) return text;
  const bytes = ethers.toUtf8Bytes(text);
  if (bytes.length > 32) throw new RangeError(`"${text}" takes ${bytes.length} bytes; a word holds 32`);
  return ethers.zeroPadBytes(bytes, 32);
}

/** The text of a padded word (trailing zero bytes dropped). */
export function text(w: string): string {
  return ethers.toUtf8String(ethers.getBytes(w)).replace(/\0+$/, "");
}

/** A BatchInfo with its short codes (productCode, lotCode, unit) given as text. */
export type BatchInfoText = Omit<IBatchRegistry.BatchInfoStruct, "productCode" | "lotCode" | "unit"> & {
  productCode: string;
  lotCode: string;
  unit: string;
};

/** A ChildLot with its lot code given as text. */
export type ChildLotText = Omit<IBatchRegistry.ChildLotStruct, "lotCode"> & { lotCode: string };

/** `info` with its short codes as the registry's words (see {@link word}). */
export function infoWords<T extends BatchInfoText>(info: T): T {
  return { ...info, productCode: word(info.productCode), lotCode: word(info.lotCode), unit: word(info.unit) };
}

/** `child` with its lot code as the registry's word. */
export function childWords<T extends ChildLotText>(child: T): T {
  return { ...child, lotCode: word(child.lotCode) };
}

/**
 * A BatchInfo for the registry. `productCode`, `lotCode` and `unit` are given as text (or as words)
 * and sent as padded words.
 */
export async function batchInfo(overrides: Partial<BatchInfoText> = {}): Promise<IBatchRegistry.BatchInfoStruct> {
  return infoWords({
    productCode: "rose-petals",
    gtin: 0n,
    lotCode: "ROSE-2026-001",
    quantity: 1_000_000n, // grams of fresh petals
    unit: "g",
    origin: "Kelaat M'Gouna",
    productionDate: BigInt(await time.latest()) - 86_400n,
    metadataHash: ethers.id("metadata:ROSE-2026-001"),
    ...overrides,
  });
}

/** The platform with roles granted and one women's rose cooperative of four members. */
export async function deployPlatform() {
  const [deployer, registrar, certifier, arbiter, coopAdmin, alice, bob, carol, dave, buyer, outsider, feeRecipient] =
    await ethers.getSigners();
  const stablecoin = await (await ethers.getContractFactory("MockStablecoin")).deploy("Demo Dirham Stablecoin", "DMAD");
  const { forwarder, registry, batches, escrow, payouts, deployment } = await deployCoopTrace(deployer, {
    registrars: [registrar.address],
    certifiers: [certifier.address],
    arbiters: [arbiter.address],
    feeRecipient: feeRecipient.address,
    feeBps: Number(FEE_BPS),
    allowedTokens: [await stablecoin.getAddress()],
  });
  await registry
    .connect(registrar)
    .registerCooperative(
      "Cooperative Tighmert Roses",
      "Tinghir",
      "ODCO-TGH-2019-0042",
      coopAdmin.address,
      RESERVE_BPS,
      true,
    );
  const cooperativeId = 1n;
  for (const [i, m] of [alice, bob, carol, dave].entries()) {
    await registry.connect(coopAdmin).addMember(cooperativeId, m.address, referenceHash(`member-${i}`));
  }
  return {
    deployer,
    registrar,
    certifier,
    arbiter,
    coopAdmin,
    alice,
    bob,
    carol,
    dave,
    buyer,
    outsider,
    feeRecipient,
    forwarder,
    registry,
    batches,
    escrow,
    payouts,
    stablecoin,
    deployment,
    cooperativeId,
  };
}

/**
 * The account indices of `accounts` in the registry, as a lookup for buildContributorTree. An account
 * that never was a member has none: it is given 2^32 − 1 − (its position), so that tests can still
 * name it (and see the contract refuse it).
 */
export async function indexOfAccounts(
  registry: { indexOf(account: string): Promise<bigint> },
  accounts: readonly string[],
): Promise<IndexOf> {
  const map = new Map<string, number>();
  for (const [i, account] of accounts.entries()) {
    let index: number;
    try {
      index = Number(await registry.indexOf(account));
    } catch {
      index = 0xffffffff - i;
    }
    map.set(account.toLowerCase(), index);
  }
  return (account: string) => {
    const index = map.get(account.toLowerCase());
    if (index === undefined) throw new Error(`no index looked up for ${account}`);
    return index;
  };
}

/** The contributor tree of `contributors`, their indices read from the batch registry's registry. */
export async function treeOf(
  batches: IBatchRegistryLike,
  contributors: readonly Contributor[],
): Promise<ContributorTree> {
  const registry = await ethers.getContractAt("CooperativeRegistry", await batches.registry());
  return buildContributorTree(
    contributors,
    await indexOfAccounts(
      registry,
      contributors.map((c) => c.account),
    ),
  );
}

/** Registers a batch and returns its id with the contributor tree. */
export async function registerBatch(
  batches: IBatchRegistryLike,
  signer: HardhatEthersSigner,
  cooperativeId: bigint,
  contributors: Contributor[],
  overrides: Partial<BatchInfoText> = {},
): Promise<{ batchId: string; tree: ContributorTree; info: IBatchRegistry.BatchInfoStruct }> {
  const info = await batchInfo(overrides);
  const tree = await treeOf(batches, contributors);
  await batches.connect(signer).registerBatch(cooperativeId, info, tree.words);
  const batchId = await batches.batchIdOf(cooperativeId, info.lotCode);
  return { batchId, tree, info };
}

type IBatchRegistryLike = Awaited<ReturnType<typeof deployPlatform>>["batches"];

/** The platform plus a registered harvest batch contributed by alice, bob and carol. */
export async function deployWithBatch() {
  const platform = await deployPlatform();
  const { batches, alice, bob, carol, cooperativeId } = platform;
  const contributors = [
    { account: alice.address, weight: 500_000n },
    { account: bob.address, weight: 300_000n },
    { account: carol.address, weight: 200_000n },
  ];
  const batch = await registerBatch(batches, alice, cooperativeId, contributors);
  return { ...platform, ...batch };
}
