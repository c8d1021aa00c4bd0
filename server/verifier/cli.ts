/**
 * `cooptrace verify <url | batchId> --rpc <url> [--deployment <file>] [--json] [--compare <url>]`
 *
 * Checks a batch against the chain through the node given with --rpc, and nothing else: the gateway
 * is contacted only with --compare, to fetch what it claims and report how that differs from the
 * chain. Exit codes: 0 every check passes, 1 a check fails or the claimed source differs, 2 usage or
 * connection error.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError, Option } from "commander";
import type { Comparison } from "./report";
import { ConnectionError, RpcClient, RpcError } from "./rpc";
import { UsageError, parseTarget } from "./target";

export interface Io {
  out: { write(s: string): unknown; isTTY?: boolean };
  err: { write(s: string): unknown };
}

interface VerifyOptions {
  rpc: string;
  deployment?: string;
  json?: boolean;
  compare?: string;
  timeout: string;
}

function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")).version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/** What the claimed source says about the batch (its JSON), fetched once. */
async function fetchClaim(url: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    throw new ConnectionError(`cannot fetch --compare ${url}: ${cause?.code ?? (err as Error).message}`);
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    throw new ConnectionError(`--compare ${url} did not answer JSON (HTTP ${res.status})`);
  }
}

async function verify(input: string, opts: VerifyOptions, io: Io): Promise<number> {
  const fail = (message: string) => {
    if (opts.json) io.out.write(JSON.stringify({ ok: false, error: message }, null, 2) + "\n");
    io.err.write(`cooptrace: ${message}\n`);
    return 2;
  };
  const timeoutMs = Number(opts.timeout);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return fail(`--timeout ${opts.timeout} is not a positive number`);
  try {
    // Loaded here, not at start-up, so that `--help` answers fast.
    const { collect, loadDeployment } = await import("./collect");
    const { chainView, compareWithChain } = await import("./compare");
    const { buildReport, formatText } = await import("./report");
    const target = parseTarget(input);
    const rpc = new RpcClient(opts.rpc, timeoutMs);
    let file = opts.deployment;
    if (file === undefined) {
      const chainId = await rpc.chainId();
      file = path.resolve("data", "deployments", `${chainId}.json`);
      if (!existsSync(file)) {
        return fail(`no --deployment given and no ${file} for chain ${chainId}: pass the deployment file`);
      }
    }
    const deployment = loadDeployment(file);
    const snap = await collect(rpc, deployment, target);
    let comparison: Comparison | undefined;
    if (opts.compare !== undefined) {
      const claim = await fetchClaim(opts.compare, timeoutMs);
      const view = chainView(snap);
      const differences =
        claim.status < 200 || claim.status > 299
          ? [
              {
                path: "(response)",
                claimed: `HTTP ${claim.status}`,
                chain: view ? "the batch exists" : "no such batch",
              },
            ]
          : view === null
            ? [{ path: "(batch)", claimed: "a batch", chain: "no such batch on chain" }]
            : compareWithChain(claim.body, view);
      comparison = { source: opts.compare, differences };
    }
    const report = buildReport(snap, rpc.used, comparison);
    const color = io.out.isTTY === true && process.env.NO_COLOR === undefined;
    io.out.write(opts.json ? JSON.stringify(report, null, 2) + "\n" : formatText(report, { color }));
    return report.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConnectionError) return fail(err.message);
    if (err instanceof RpcError) return fail(`the node refused a request: ${err.message}`);
    return fail(`unexpected error: ${(err as Error).stack ?? String(err)}`);
  }
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  let code = 0;
  const program = new Command();
  program
    .name("cooptrace")
    .description("CoopTrace tools. `verify` checks a batch against the chain, through a node of your choice.")
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) });
  program
    .command("verify")
    .description(
      "Verify a batch from the chain alone: contracts, registration, contributors' Merkle commitment (and merge rule), " +
        "event history, certifications, lineage and mass balance, each sale's split and the members' shares. " +
        "Exit 0 when every check passes, 1 on any mismatch, 2 on usage or connection errors.",
    )
    .argument("<target>", "a batch id (0x…), a verify URL …/b/<batchId>, or a GS1 Digital Link …/01/<gtin>/10/<lot>")
    .requiredOption("--rpc <url>", "JSON-RPC URL of an Ethereum node you trust (the only thing read)")
    .option("--deployment <file>", "deployment file (default ./data/deployments/<chainId>.json)")
    .option("--json", "print a machine-readable report")
    .option(
      "--compare <url>",
      "also fetch a source's JSON for the batch (e.g. the gateway's /api/v1/batches/<id>) and report every field that differs from the chain",
    )
    .addOption(new Option("--timeout <ms>", "timeout of each request").default("30000"))
    .action(async (target: string, opts: VerifyOptions) => {
      code = await verify(target, opts, io);
    });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return code;
}

if (require.main === module) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
