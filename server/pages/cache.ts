/**
 * The rendered-page cache of the verify page: least recently used first out, bounded in bytes (not
 * in entries), so that no sequence of requests can make it hold more than `maxBytes` of pages. Its
 * keys are what changes the answer (format, language, batch, canonical path), never the raw URL; each
 * entry remembers the chain check it was rendered under, and is served under that same check (or, by the
 * verify route, while the page of the next check is being rendered: see server/pages/index.ts).
 */
import { createHash } from "node:crypto";

/** Default bound of the cache: a verify page is 10–40 KB, so a few hundred pages. */
export const DEFAULT_PAGE_CACHE_BYTES = 8 * 1024 * 1024;

/** Counted for each entry besides its body and key (the Map slot, the entry object, the Buffer header). */
const ENTRY_OVERHEAD_BYTES = 256;

export interface CachedPage {
  /** The chain check the page was rendered under (compared by identity). */
  state: object;
  /** The index's last block when it was rendered: a write indexed since then makes it stale. */
  indexed: number;
  /** The full Content-Type, charset included. */
  type: string;
  body: Buffer;
  /** A weak validator of the body, computed once when rendered (Express would hash the body per request). */
  etag: string;
}

/** The weak ETag of a rendered body: its length and a SHA-1 of its bytes, as Express writes them. */
export function etagOf(body: Buffer): string {
  return `W/"${body.byteLength.toString(16)}-${createHash("sha1").update(body).digest("base64").slice(0, 27)}"`;
}

export class PageCache {
  private readonly entries = new Map<string, { page: CachedPage; bytes: number }>();
  private used = 0;

  constructor(readonly maxBytes: number = DEFAULT_PAGE_CACHE_BYTES) {
    if (!(maxBytes > 0)) throw new RangeError("maxBytes must be positive");
  }

  /** Bytes held now (bodies, keys and a fixed overhead per entry). */
  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): CachedPage | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    // Map keeps insertion order: moving the entry to the end makes the first one the least recently used.
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.page;
  }

  set(key: string, page: CachedPage): void {
    this.delete(key);
    // Strings are UTF-16 in memory: two bytes per character of the key.
    const bytes = page.body.byteLength + key.length * 2 + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) return; // larger than the whole cache: served, not kept
    while (this.used + bytes > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
    this.entries.set(key, { page, bytes });
    this.used += bytes;
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.entries.delete(key);
    this.used -= old.bytes;
  }
}
