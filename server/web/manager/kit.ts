/**
 * What the manager's pages (members.ts, batches.ts, lineage.ts, payout.ts, card.ts) share: a request
 * already checked to come from a cooperative's manager, and an answer that routes.ts turns into HTTP (a
 * page, a 303, a PDF). These modules hold no Express: the layer rules keep it in routes.ts.
 */
import type { Catalog } from "../../pages/i18n";
import { quantity } from "../../pages/format";
import type { WebPage, WebRequest } from "../page";

/** A request from a cooperative's manager: `coopId` is the cooperative he manages. */
export interface ManagerRequest extends WebRequest {
  coopId: number;
}

export type ManagerPage = WebPage<ManagerRequest>;

/**
 * The contract's refusal behind a write, when the relayer's simulation decoded one (the relayer's
 * RelayRejectedError, read by its shape: the pages do not depend on the relayer).
 */
export function revertOf(err: unknown): { name: string; args: unknown[] } | undefined {
  if (!(err instanceof Error) || err.name !== "RelayRejectedError") return undefined;
  const decoded = (err as { decoded?: { name?: unknown; args?: unknown } }).decoded;
  return typeof decoded?.name === "string"
    ? { name: decoded.name, args: Array.isArray(decoded.args) ? decoded.args : [] }
    : undefined;
}

export const blank = (s: string | undefined): string | undefined =>
  s === undefined || s.trim() === "" ? undefined : s.trim();

/** "7 kg", in the reader's language. */
export const quantityText = (c: Catalog, n: bigint | string, unit: string): string => quantity(c, n, unit);
