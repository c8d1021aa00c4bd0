/**
 * What the manager's later pages (lineage.ts, payout.ts, card.ts) share: a request already checked to
 * come from a cooperative's manager, and an answer that routes.ts turns into HTTP (a page, a 303, a PDF).
 * These modules hold no Express: the layer rules keep it in routes.ts.
 */
import { randomBytes } from "node:crypto";
import type { User } from "../../custody/users";
import type { Html } from "../../pages/html";
import type { Catalog } from "../../pages/i18n";
import type { View } from "../http";
import type { PendingWrite } from "../progress";

export type Body = Record<string, string | undefined>;

export interface ManagerRequest {
  user: User;
  coopId: number;
  c: Catalog;
  body: Body;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  csrf: Html;
  /** The write named by the page's `op` parameter while the chain has not recorded it (progress.ts). */
  pending: PendingWrite | null;
}

export type ManagerAnswer = { status: number; view: View } | { redirect: string } | { pdf: Buffer; filename: string };

export interface ManagerPage {
  method: "get" | "post";
  path: string;
  handle(r: ManagerRequest): ManagerAnswer | Promise<ManagerAnswer>;
}

/** Confirmations are handed from a POST to its page through memory, for their owner, a short while. */
export const DONE_TTL_MS = 30 * 60_000;

export function doneStore<T>(): {
  put(owner: string, value: T): string;
  get(owner: string, key: string): T | undefined;
} {
  const items = new Map<string, { owner: string; value: T; at: number }>();
  return {
    put(owner, value) {
      const key = randomBytes(12).toString("base64url");
      items.set(key, { owner, value, at: Date.now() });
      return key;
    },
    get(owner, key) {
      for (const [k, v] of items) if (Date.now() - v.at > DONE_TTL_MS) items.delete(k);
      const item = items.get(key);
      return item !== undefined && item.owner === owner ? item.value : undefined;
    },
  };
}

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

export const withLang = (c: Catalog, path: string): string => `${path}${path.includes("?") ? "&" : "?"}lang=${c.lang}`;
