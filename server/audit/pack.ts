/**
 * The reconciliation pack of a sale: its audit, the batch's contributors with the Merkle proof of
 * each (rebuilt from the emitted list, so anyone can check them against the on-chain root), the
 * batch's EPCIS history, the deployment file and the verifier command that re-checks it all from a
 * node of the auditor's choice.
 */
import type { DeploymentFile } from "../chain/deploy";
import { buildEpcisDocument } from "../epcis";
import { buildContributorTree } from "../../domain/contributors";
import { contributorSource } from "../verifier/collect";
import { buildSaleAudit, type AuditDeps, type SaleAudit } from "./sale";

export type PackContext = AuditDeps["ctx"] & {
  deployment: DeploymentFile;
  /** The gateway's public URL: identifiers in the EPCIS history. */
  publicUrl: string;
  chainId: number;
};

export interface SalePack {
  generatedAt: string;
  audit: SaleAudit;
  contributors: {
    batchId: string;
    /** The batch whose registration emitted the list (itself, or a split ancestor). */
    emittedBy: string | null;
    root: string;
    totalWeight: string;
    list: { account: string; weight: string; proof: string[] }[];
  };
  epcis: Record<string, unknown> | null;
  deployment: DeploymentFile;
  verify: { command: string; rpc: string; deploymentFile: string };
}

export async function buildSalePack(deps: AuditDeps & { ctx: PackContext }, saleId: number): Promise<SalePack> {
  const audit = await buildSaleAudit(deps, saleId);
  const { snap } = await deps.chain.batch(audit.batchId);
  const source = contributorSource(snap, audit.batchId);
  const tree = source === null ? null : buildContributorTree(source.contributors);
  const batch = deps.ctx.queries.getBatch(audit.batchId);
  const deploymentFile = `${deps.ctx.chainId}.json`;
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
        proof: tree!.proof(c.account),
      })),
    },
    epcis:
      batch === null
        ? null
        : buildEpcisDocument(batch, {
            publicUrl: deps.ctx.publicUrl,
            chainId: deps.ctx.chainId,
            lookupBatch: (id) => deps.ctx.queries.getBatch(id),
          }),
    deployment: deps.ctx.deployment,
    verify: {
      command: `npx cooptrace verify ${audit.batchId} --rpc ${deps.chain.rpcUrl} --deployment ${deploymentFile}`,
      rpc: deps.chain.rpcUrl,
      deploymentFile,
    },
  };
}
