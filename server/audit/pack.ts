/**
 * The reconciliation pack of a sale: its audit, the batch's contributors with the Merkle proof of
 * each (rebuilt from the emitted list, so anyone can check them against the on-chain root), the
 * batch's EPCIS history, the deployment file and the verifier command that re-checks it all from a
 * node of the auditor's choice.
 */
import type { DeploymentFile } from "../chain/deploy";
import { buildEpcisDocument } from "../epcis";
import { contributorSource, treeOfContributors } from "../verifier/collect";
import { buildSaleAudit, type AuditDeps, type SaleAudit } from "./sale";

export interface PackDeps extends AuditDeps {
  /** The deployment file, included in the pack; its chain id names the file. */
  deployment: DeploymentFile;
  /** The gateway's public URL: identifiers in the EPCIS history. */
  publicUrl: string;
}

export interface SalePack {
  generatedAt: string;
  audit: SaleAudit;
  contributors: {
    batchId: string;
    /** The batch whose registration emitted the list (itself, or a split ancestor). */
    emittedBy: string | null;
    root: string;
    totalWeight: string;
    /**
     * Each contributor with her account index, the packed word the batch committed to (index << 64 |
     * weight, as a decimal string) and its Merkle proof: the leaf is keccak256(abi.encode(word)).
     */
    list: { account: string; weight: string; index: number; word: string; proof: string[] }[];
  };
  epcis: Record<string, unknown> | null;
  /**
   * The cooperative's payouts in dirhams as the verifier recomputes them from the chain alone: each
   * member's entitled, paid, confirmed, contested and outstanding per token (exact integers), the
   * payouts with their answers, and the lot's closure if any (server/verifier/money.ts).
   */
  payouts: {
    rows: Record<string, string | number>[];
    payouts: {
      id: string;
      member: string;
      token: string;
      tokenAmount: string;
      dirhams: string;
      purpose: string;
      method: string;
      status: string;
    }[];
    closures: { token: string; roundedOff: string }[];
    currencies: Record<string, { code: string | null; decimals: number }>;
  } | null;
  deployment: DeploymentFile;
  verify: { command: string; rpc: string; deploymentFile: string };
}

export async function buildSalePack(deps: PackDeps, saleId: number): Promise<SalePack> {
  const audit = await buildSaleAudit(deps, saleId);
  const { snap } = await deps.chain.batch(audit.batchId);
  const source = contributorSource(snap, audit.batchId);
  const tree = source === null ? null : treeOfContributors(source.contributors);
  const batch = deps.index.getBatch(audit.batchId);
  const deploymentFile = `${deps.deployment.chainId}.json`;
  const money = snap.money;
  return {
    generatedAt: new Date().toISOString(),
    audit,
    contributors: {
      batchId: audit.batchId,
      emittedBy: source?.registration.batchId ?? null,
      root: tree?.root ?? "",
      totalWeight: (tree?.totalWeight ?? 0n).toString(),
      list: (tree?.contributors ?? []).map((c) => ({
        account: c.account,
        weight: c.weight.toString(),
        index: c.index,
        word: tree!.wordOf(c.account).toString(),
        proof: tree!.proof(c.account),
      })),
    },
    payouts:
      money === undefined
        ? null
        : {
            rows: money.rows.map((r) =>
              Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v])),
            ),
            payouts: money.payouts.map((p) => ({
              id: p.id,
              member: p.member,
              token: p.token,
              tokenAmount: p.tokenAmount.toString(),
              dirhams: p.dirhams.toString(),
              purpose: p.purpose,
              method: p.method,
              status: p.status,
            })),
            closures: money.closures.map((c) => ({ token: c.token, roundedOff: c.roundedOff.toString() })),
            currencies: money.currencies,
          },
    epcis:
      batch === null
        ? null
        : buildEpcisDocument(batch, {
            publicUrl: deps.publicUrl,
            chainId: deps.deployment.chainId,
            lookupBatch: (id) => deps.index.getBatch(id),
          }),
    deployment: deps.deployment,
    verify: {
      command: `npx cooptrace verify ${audit.batchId} --rpc ${deps.chain.rpcUrl} --deployment ${deploymentFile}`,
      rpc: deps.chain.rpcUrl,
      deploymentFile,
    },
  };
}
