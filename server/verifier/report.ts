/**
 * The verifier's report: the checks, the batch facts as read from the chain, and (with --compare)
 * the differences between a claimed source and the chain; as readable text or as JSON.
 */
import { SECTIONS, runChecks, type Check, type Section } from "./checks";
import { chainView, type ChainView, type Difference } from "./compare";
import type { Snapshot } from "./collect";

export interface Comparison {
  source: string;
  differences: Difference[];
}

export interface Report {
  ok: boolean;
  target: string;
  batchId: string | null;
  chainId: number;
  block: number;
  rpcUrl: string;
  deployment: string;
  checks: Check[];
  passed: number;
  failed: number;
  /** The batch as read from the chain (null when not found). */
  facts: ChainView | null;
  /** JSON-RPC methods sent to the node, with counts. */
  rpcMethods: Record<string, number>;
  notes: string[];
  comparison?: Comparison;
}

export function buildReport(snap: Snapshot, rpcMethods: Record<string, number>, comparison?: Comparison): Report {
  const checks = runChecks(snap);
  const failed = checks.filter((c) => !c.ok).length;
  return {
    ok: failed === 0 && (comparison === undefined || comparison.differences.length === 0),
    target: snap.target.input,
    batchId: snap.batchId,
    chainId: snap.nodeChainId,
    block: snap.block,
    rpcUrl: snap.rpcUrl,
    deployment: snap.deployment.source,
    checks,
    passed: checks.length - failed,
    failed,
    facts: chainView(snap),
    rpcMethods: { ...rpcMethods },
    notes: snap.notes,
    comparison,
  };
}

const TITLES: Record<Section, string> = {
  deployment: "Deployment",
  batch: "Batch",
  contributors: "Contributors' commitment",
  history: "Event history",
  certifications: "Certifications",
  lineage: "Lineage and mass balance",
  sales: "Sales",
  shares: "Members' shares",
  money: "Payouts in dirhams",
};

/** Detail lines shown per check in text (JSON has them all). */
const MAX_DETAILS = 25;

function show(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function formatText(report: Report, options: { color?: boolean } = {}): string {
  const green = (s: string) => (options.color ? `\x1b[32m${s}\x1b[0m` : s);
  const red = (s: string) => (options.color ? `\x1b[31m${s}\x1b[0m` : s);
  const out: string[] = [];
  out.push(`CoopTrace verifier: ${report.target}`);
  out.push(`  chain ${report.chainId} at block ${report.block}, node ${report.rpcUrl}`);
  out.push(`  deployment ${report.deployment}`);
  if (report.batchId) out.push(`  batch ${report.batchId}`);
  for (const section of SECTIONS) {
    const checks = report.checks.filter((c) => c.section === section);
    if (checks.length === 0) continue;
    out.push("", TITLES[section]);
    for (const c of checks) {
      out.push(`  ${c.ok ? green("✓") : red("✗")} ${c.title}`);
      const details = c.details.length > MAX_DETAILS ? c.details.slice(0, MAX_DETAILS) : c.details;
      for (const line of details) out.push(`      ${line}`);
      if (c.details.length > MAX_DETAILS) out.push(`      … ${c.details.length - MAX_DETAILS} more (see --json)`);
    }
  }
  if (report.notes.length > 0) {
    out.push("", "Notes");
    for (const n of report.notes) out.push(`  ${n}`);
  }
  if (report.comparison) {
    const diffs = report.comparison.differences;
    out.push("", `Comparison with ${report.comparison.source}`);
    if (diffs.length === 0) out.push(`  ${green("✓")} every field it claims matches the chain`);
    for (const d of diffs) {
      out.push(`  ${red("✗")} ${d.path}: claimed ${show(d.claimed)}, chain ${show(d.chain)}`);
    }
  }
  out.push("");
  const summary = `${report.passed} checks passed, ${report.failed} failed${
    report.comparison ? `, ${report.comparison.differences.length} differences with the claimed source` : ""
  }`;
  out.push(report.ok ? green(`✓ VERIFIED: ${summary}`) : red(`✗ NOT VERIFIED: ${summary}`));
  out.push(
    `  (JSON-RPC used: ${Object.entries(report.rpcMethods)
      .map(([m, n]) => `${m}×${n}`)
      .join(", ")})`,
  );
  return out.join("\n") + "\n";
}
