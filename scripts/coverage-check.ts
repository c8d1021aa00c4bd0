/**
 * The gate after `hardhat coverage` (`npm run coverage`): reads the istanbul summary that
 * solidity-coverage writes (coverage/coverage-summary.json, reporter `json-summary` in .solcover.js),
 * sums lines and branches over the product contracts (contracts/, without mocks/ and bench/) and exits
 * 1 when either falls under 95 %. Statements and functions are printed but not gated.
 *
 * The figures are summed from the per-file entries rather than read from `total`, so the gate does not
 * depend on .solcover.js's skipFiles: a test double that slipped into the report cannot lift the figure.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

/** One metric of an istanbul json-summary entry. */
export interface Metric {
  total: number;
  covered: number;
  skipped?: number;
  pct?: number | string;
}

/** An istanbul json-summary: one entry per file plus `total`. */
export type CoverageSummary = Record<string, Partial<Record<MetricName, Metric>>>;

export type MetricName = "lines" | "statements" | "functions" | "branches";

export const METRICS: readonly MetricName[] = ["statements", "branches", "functions", "lines"];
export const GATED: readonly MetricName[] = ["lines", "branches"];
export const THRESHOLD = 95;

export interface MetricResult {
  covered: number;
  total: number;
  /** 100 when there is nothing to cover (istanbul's convention). */
  pct: number;
}

export interface CheckResult {
  ok: boolean;
  /** The files counted, relative and with forward slashes. */
  files: string[];
  metrics: Record<MetricName, MetricResult>;
  /** One sentence per reason to fail; empty when `ok`. */
  failures: string[];
}

/** Whether a summary key (relative to `root`, or absolute) is a product contract. */
export function isProductContract(file: string, root: string = process.cwd()): boolean {
  const rel = (path.isAbsolute(file) ? path.relative(root, file) : file).split(path.sep).join("/");
  const m = /^contracts\/(.+\.sol)$/.exec(rel);
  return m !== null && !m[1].startsWith("mocks/") && !m[1].startsWith("bench/");
}

/** covered / total as a percentage floored to 2 decimals: what is printed never overstates what was measured. */
export function pct2(m: { covered: number; total: number }): string {
  return m.total === 0 ? "100.00" : (Math.floor((m.covered * 10_000) / m.total) / 100).toFixed(2);
}

/** Pure: sums the product contracts' figures and compares lines and branches with `threshold`. */
export function checkCoverage(
  summary: CoverageSummary,
  threshold: number = THRESHOLD,
  root: string = process.cwd(),
): CheckResult {
  const keys = Object.keys(summary).filter((k) => k !== "total" && isProductContract(k, root));
  const metrics = {} as Record<MetricName, MetricResult>;
  for (const name of METRICS) {
    let covered = 0;
    let total = 0;
    for (const key of keys) {
      const m = summary[key][name];
      if (m === undefined) continue;
      covered += m.covered;
      total += m.total;
    }
    metrics[name] = { covered, total, pct: total === 0 ? 100 : (100 * covered) / total };
  }
  const failures: string[] = [];
  if (keys.length === 0) failures.push("no contract of contracts/ in the coverage summary");
  for (const name of GATED) {
    const m = metrics[name];
    // Exact comparison (covered / total < threshold %), no rounding in the contracts' favour.
    if (m.covered * 100 < threshold * m.total) {
      failures.push(`${name} ${pct2(m)} % (${m.covered}/${m.total}) is under ${threshold} %`);
    }
  }
  const files = keys.map((k) => (path.isAbsolute(k) ? path.relative(root, k) : k).split(path.sep).join("/")).sort();
  return { ok: failures.length === 0, files, metrics, failures };
}

export function formatResult(result: CheckResult, threshold: number = THRESHOLD): string {
  const lines = [`coverage of ${result.files.length} contracts (contracts/, mocks and bench excluded):`];
  for (const name of METRICS) {
    const m = result.metrics[name];
    const gate = GATED.includes(name) ? `  (minimum ${threshold} %)` : "";
    lines.push(`  ${name.padEnd(10)} ${pct2(m).padStart(6)} %  ${m.covered}/${m.total}${gate}`);
  }
  lines.push(result.ok ? "coverage check passed" : `coverage check FAILED: ${result.failures.join("; ")}`);
  return lines.join("\n");
}

function main(): void {
  const file = path.resolve(process.argv[2] ?? "coverage/coverage-summary.json");
  let summary: CoverageSummary;
  try {
    summary = JSON.parse(readFileSync(file, "utf8")) as CoverageSummary;
  } catch (err) {
    console.error(`coverage check FAILED: cannot read ${file} (${(err as Error).message}); run \`npm run coverage\``);
    process.exit(1);
  }
  const result = checkCoverage(summary);
  const text = formatResult(result);
  if (result.ok) console.log(text);
  else console.error(text);
  process.exit(result.ok ? 0 : 1);
}

if (require.main === module) main();
