/**
 * What the buyer's and the manager's sale pages (buyer.ts, manager.ts) and the offer page of routes.ts
 * share: the sale of the URL, and a sale in words (product, lot, cooperative, currency).
 */
import type { Sale } from "../../index/queries";
import { DomainError } from "../../services/errors";
import type { WebDeps } from "../deps";
import type { SaleView } from "./views";

/** The parts of the workspace's dependencies the sale pages use. */
export type SalesDeps = Pick<WebDeps, "services" | "once" | "getBatch" | "getCooperative" | "tokenView">;

/** The sale of the URL's `:saleId` (not found for anything but a sale number). */
export function saleIdOf(params: Record<string, string>): number {
  const n = Number(params.saleId);
  if (!Number.isSafeInteger(n) || n < 1) throw new DomainError("not_found", "sale_not_found", "no such sale");
  return n;
}

/** A sale with what a reader needs to recognise it. */
export async function saleView(deps: SalesDeps, sale: Sale): Promise<SaleView> {
  const batch = deps.getBatch(sale.batchId);
  const coop = deps.getCooperative(sale.cooperativeId);
  return {
    sale,
    productCode: batch?.productCode ?? "",
    lotCode: batch?.lotCode ?? "",
    unit: batch?.unit ?? "",
    cooperativeName: coop?.name ?? "",
    token: await deps.tokenView(sale.token),
  };
}
