/**
 * `npm run gas:breakdown`: where registerBatch's gas per contributor goes. Registers the same batch
 * with 100 and with 200 contributors, traces both transactions (debug_traceTransaction on Hardhat's
 * in-process EVM, so every figure is exact), and prints the difference per contributor split into:
 * calldata, the membership call to the registry (its own opcodes and the call itself), cold storage
 * reads, hashing, the log, memory growth and the rest. The figures are the baseline issue 16 measures
 * its packed contributors against (before: 4,617 per contributor, 2,100 of it the member read).
 */
import { ethers } from "hardhat";
import { deployCoopTrace } from "./ethers-deploy";
import { buildContributorTree } from "../domain/contributors";
import { MAX_LOT_BYTES, textToWord } from "../domain/words";

interface StructLog {
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  memory?: string[];
}

const MEMORY_OPS = new Set([
  "MSTORE",
  "MSTORE8",
  "MLOAD",
  "CALLDATALOAD",
  "CALLDATACOPY",
  "MCOPY",
  "RETURNDATACOPY",
  "CODECOPY",
]);

type Buckets = Record<string, number>;

const SIZES = [100, 200] as const;
const DAY = 24 * 3600;

/** Calldata gas of EIP-2028: 4 per zero byte, 16 per other byte. */
function calldataGas(data: string): number {
  let gas = 0;
  for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === "00" ? 4 : 16;
  return gas;
}

/**
 * Gas of a trace by bucket. An opcode's cost is what the gas counter lost between it and the next
 * step at the same depth, which for a call includes everything the callee spent; the callee's steps
 * are therefore counted in "registry call: its opcodes" and taken out of the call's own cost.
 */
function bucketsOf(logs: StructLog[]): Buckets {
  const b: Buckets = {};
  const add = (k: string, v: number) => (b[k] = (b[k] ?? 0) + v);
  let inner = 0;
  let pendingCall: { gas: number } | null = null;
  for (let i = 0; i < logs.length; i++) {
    const s = logs[i];
    if (s.depth > 1) {
      inner += s.gasCost;
      if (s.op === "SLOAD" && s.gasCost >= 2100)
        add("registry calls: cold SLOAD (admin, one bitmap word per 256 members)", s.gasCost);
      else add("registry call: its other opcodes", s.gasCost);
      continue;
    }
    if (pendingCall !== null) {
      add("registry call: the call itself (cold/warm access, ABI in/out)", pendingCall.gas - s.gas - inner);
      pendingCall = null;
      inner = 0;
    }
    if (s.op === "STATICCALL" || s.op === "CALL") {
      pendingCall = { gas: s.gas };
      continue;
    }
    if (s.op === "KECCAK256") add("KECCAK256 (leaves and nodes)", s.gasCost);
    else if (s.op.startsWith("LOG")) add("LOG (event data, memory growth included)", s.gasCost);
    else if (s.op === "SLOAD" && s.gasCost >= 2100) add("cold SLOAD (BatchRegistry)", s.gasCost);
    else if (s.op === "SSTORE") add("SSTORE", s.gasCost);
    else if (MEMORY_OPS.has(s.op)) add("memory and calldata copies (memory growth included)", s.gasCost);
    else {
      add("other opcodes (stack, arithmetic, jumps)", s.gasCost);
      if (process.env.GAS_OPS) add(`op ${s.op}`, s.gasCost);
    }
  }
  return b;
}

async function main() {
  const [deployer, coopAdmin] = await ethers.getSigners();
  const { registry, batches } = await deployCoopTrace(deployer, {
    registrars: [deployer.address],
    feeRecipient: deployer.address,
  });
  await registry.registerCooperative("Bench cooperative", "Tinghir", "BENCH-1", coopAdmin.address, 1_000, true);
  const coop = 1n;
  const members: string[] = [];
  for (let i = 1; i <= Math.max(...SIZES); i++) {
    const account = ethers.getAddress(ethers.toBeHex(0x1000_0000n + BigInt(i) * 0x1_0000_0000n, 20));
    members.push(account);
    await registry.connect(coopAdmin).addMember(coop, account, ethers.id(`bench-member-${i}`));
  }
  const now = (await ethers.provider.getBlock("latest"))!.timestamp;
  const results: Record<number, { total: number; buckets: Buckets }> = {};
  for (const n of SIZES) {
    const tree = buildContributorTree(
      members.slice(0, n).map((account, i) => ({ account, weight: BigInt(1000 + i) })),
      (account) => members.indexOf(account),
    );
    const tx = await batches.connect(coopAdmin).registerBatch(
      coop,
      {
        productCode: textToWord("rose-petals"),
        gtin: 6111234567895n,
        lotCode: textToWord(`BREAK-${n}`, MAX_LOT_BYTES),
        quantity: 10_000_000n,
        unit: textToWord("g"),
        origin: "Kelaat M'Gouna",
        productionDate: BigInt(now - DAY),
        metadataHash: ethers.id(`meta:BREAK-${n}`),
      },
      tree.words,
    );
    const receipt = (await tx.wait())!;
    const trace = (await ethers.provider.send("debug_traceTransaction", [
      tx.hash,
      { disableMemory: true, disableStack: true, disableStorage: true },
    ])) as { structLogs: StructLog[] };
    const buckets = bucketsOf(trace.structLogs);
    buckets["calldata (EIP-2028)"] = calldataGas(tx.data);
    results[n] = { total: Number(receipt.gasUsed), buckets };
  }
  const [a, b] = SIZES;
  const per = (x: number, y: number) => ((y - x) / (b - a)).toFixed(0);
  const keys = [...new Set([...Object.keys(results[a].buckets), ...Object.keys(results[b].buckets)])].sort();
  const lines = [`registerBatch gas per contributor, from ${a} to ${b} contributors (exact, traced):`, ""];
  lines.push(`| part | ${a} | ${b} | per contributor |`, "| --- | ---: | ---: | ---: |");
  let accounted = 0;
  for (const k of keys) {
    const x = results[a].buckets[k] ?? 0;
    const y = results[b].buckets[k] ?? 0;
    accounted += (y - x) / (b - a);
    lines.push(`| ${k} | ${x} | ${y} | ${per(x, y)} |`);
  }
  lines.push(
    `| total (receipt gasUsed) | ${results[a].total} | ${results[b].total} | ${per(results[a].total, results[b].total)} |`,
  );
  lines.push("", `(parts account for ${accounted.toFixed(0)} of it; the rest is the 21,000 base and refunds)`);
  console.log(lines.join("\n"));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
