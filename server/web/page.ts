/**
 * What a page of the workspace is, without Express (the layer rules keep Express in routes.ts and http.ts):
 * a handler takes the parts of a request it needs (`WebRequest`, built once by http.ts for a signed-in
 * reader) and answers a page, a 303 or a PDF (`Answer`), which http.ts sends. The areas (manager, sales,
 * roles) list their pages as `WebPage`s; each area's routes.ts mounts them.
 */
import { randomBytes } from "node:crypto";
import type { User } from "../custody/users";
import type { Html } from "../pages/html";
import type { Catalog } from "../pages/i18n";
import { DomainError } from "../services/errors";
import type { PendingWrite } from "./progress";

/** A page's title and body, as the views of the workspace return them. */
export interface View {
  title: string;
  body: Html;
}

/** A form's fields (only the text ones: a repeated field is not one of ours). */
export type Body = Record<string, string | undefined>;

/** What a page needs of a request whose reader is signed in. */
export interface WebRequest {
  user: User;
  c: Catalog;
  /** The form's fields on a POST, {} on a GET. */
  body: Body;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  /** The CSRF field of the reader's session, for the forms a page renders. */
  csrf: Html;
  /** The write named by the page's `op` parameter while the chain has not recorded it (progress.ts). */
  pending: PendingWrite | null;
  /**
   * A write kept by a confirmation (null once mined when it was answered), as the relayer sees it now:
   * null once done, else on its way or refused, with `self` as the page to look at again (progress.ts).
   */
  progress: (operationId: string | null, self: string) => PendingWrite | null;
  /** This page's own address, query included (where "look again" leads). */
  url: string;
}

export type Answer = { status: number; view: View } | { redirect: string } | { pdf: Buffer; filename: string };

export interface WebPage<R = WebRequest> {
  method: "get" | "post";
  path: string;
  handle(r: R): Answer | Promise<Answer>;
}

/** `path` in the reader's language. */
export const withLang = (c: Catalog, path: string): string => `${path}${path.includes("?") ? "&" : "?"}lang=${c.lang}`;

/** Confirmations are handed from a POST to its page through memory, for their owner, a short while. */
export const DONE_TTL_MS = 30 * 60_000;

export interface DoneStore<T> {
  /** Keeps `value` for `owner` and returns the key of its confirmation page. */
  put(owner: string, value: T): string;
  /** The value kept under `key` if it is `owner`'s and not expired. */
  get(owner: string, key: string): T | undefined;
  /** The same, or "not found" (a confirmation of someone else's is not found either). */
  own(owner: string, key: string): T;
}

export function doneStore<T>(): DoneStore<T> {
  const items = new Map<string, { owner: string; value: T; at: number }>();
  const get = (owner: string, key: string) => {
    for (const [k, v] of items) if (Date.now() - v.at > DONE_TTL_MS) items.delete(k);
    const item = items.get(key);
    return item !== undefined && item.owner === owner ? item.value : undefined;
  };
  return {
    put(owner, value) {
      const key = randomBytes(12).toString("base64url");
      items.set(key, { owner, value, at: Date.now() });
      return key;
    },
    get,
    own(owner, key) {
      const value = get(owner, key);
      if (value === undefined) throw new DomainError("not_found", "not_found", "no such page");
      return value;
    },
  };
}
