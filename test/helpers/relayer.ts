/**
 * Helpers of the relayer tests: the test's own double of the custody callback (in-memory wallets),
 * captured pino logs, and a cooperative with members who hold no ether.
 */
import { MAX_LOT_BYTES, textToWord } from "../../domain/words";
import { Writable } from "node:stream";
import { Wallet, id as hashText, type TypedDataDomain, type TypedDataField } from "ethers";
import { createLogger, type Logger } from "../../server/log";
import { buildContributorTree } from "../../domain/contributors";
import type { TestChain } from "./chain";

export interface TestCustody {
  add(userId: string, wallet: Wallet): void;
  signTypedData(
    userId: string,
    signer: string,
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
  /** How many signatures custody produced. */
  signed(): number;
}

export function createTestCustody(): TestCustody {
  const wallets = new Map<string, Wallet>();
  let count = 0;
  return {
    add: (userId, wallet) => void wallets.set(userId, wallet),
    async signTypedData(userId, signer, domain, types, value) {
      const wallet = wallets.get(userId);
      if (wallet === undefined) throw new Error(`no key for ${userId}`);
      if (wallet.address !== signer) throw new Error(`${userId}'s key is not ${signer}'s`);
      count++;
      return wallet.signTypedData(domain, types, value);
    },
    signed: () => count,
  };
}

export interface CapturedLogs {
  log: Logger;
  lines: string[];
  entries(): { level: number; msg: string; [k: string]: unknown }[];
}

export function captureLogs(level = "debug"): CapturedLogs {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(
        ...chunk
          .toString("utf8")
          .split("\n")
          .filter((l) => l !== ""),
      );
      cb();
    },
  });
  return {
    log: createLogger(level, sink),
    lines,
    entries: () => lines.map((l) => JSON.parse(l) as { level: number; msg: string }),
  };
}

export interface Cooperative {
  cooperativeId: bigint;
  admin: Wallet;
  members: Wallet[];
  custody: TestCustody;
  /** Calldata of registerBatch for `member` as the only contributor. */
  registerBatchData(member: Wallet, lotCode: string): Promise<string>;
  batchIdOf(lotCode: string): Promise<string>;
}

let cooperativeCount = 0;

/** A new random key as a plain Wallet (createRandom gives an HDNodeWallet). */
export function randomWallet(): Wallet {
  return new Wallet(Wallet.createRandom().privateKey);
}

/**
 * A cooperative registered by a registrar (wallets[1], granted REGISTRAR_ROLE by wallets[0]) whose
 * admin (a new funded wallet) adds `memberCount` new random members: they never receive ether.
 */
export async function createCooperative(tc: TestChain, memberCount: number): Promise<Cooperative> {
  const { registry, batches } = tc.deployed;
  const [platform, registrar] = tc.wallets;
  const role = await registry.REGISTRAR_ROLE();
  if (!(await registry.hasRole(role, registrar.address))) {
    await (await registry.connect(platform).grantRole(role, registrar.address)).wait();
  }
  const n = ++cooperativeCount;
  const admin = randomWallet().connect(tc.provider);
  await (await platform.sendTransaction({ to: admin.address, value: 10n ** 18n })).wait();
  const tx = await registry
    .connect(registrar)
    .registerCooperative(`Cooperative Roses ${n}`, "Tinghir", `ODCO-TEST-${n}`, admin.address, 1_000, true);
  const receipt = await tx.wait();
  const event = receipt!.logs
    .map((l) => registry.interface.parseLog(l))
    .find((e) => e?.name === "CooperativeRegistered");
  const cooperativeId = event!.args.cooperativeId as bigint;
  const custody = createTestCustody();
  const members: Wallet[] = [];
  for (let i = 0; i < memberCount; i++) {
    const member = randomWallet();
    await (await registry.connect(admin).addMember(cooperativeId, member.address, hashText(`member:${n}:${i}`))).wait();
    custody.add(`user-${member.address}`, member);
    members.push(member);
  }
  const block = await tc.provider.getBlock("latest");
  return {
    cooperativeId,
    admin,
    members,
    custody,
    async registerBatchData(member, lotCode) {
      const index = await registry.indexOf(member.address);
      const tree = buildContributorTree([{ account: member.address, weight: 1_000n }], () => index);
      return batches.interface.encodeFunctionData("registerBatch", [
        cooperativeId,
        {
          productCode: textToWord("rose-petals"),
          gtin: 0n,
          lotCode: textToWord(lotCode, MAX_LOT_BYTES),
          quantity: 1_000n,
          unit: textToWord("kg"),
          origin: "Kelaat M'Gouna",
          productionDate: BigInt(block!.timestamp - 86_400),
          metadataHash: hashText(`metadata:${lotCode}`),
        },
        tree.words,
      ]);
    },
    batchIdOf: (lotCode) => batches.batchIdOf(cooperativeId, textToWord(lotCode, MAX_LOT_BYTES)),
  };
}
