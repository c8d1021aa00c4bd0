/**
 * What the user asked to verify, parsed locally (no request is made to the URL): a batch id, a
 * verify-page URL `…/b/<batchId>`, any URL that carries a batch id, or a GS1 Digital Link
 * `…/01/<gtin>/10/<lot>`.
 */
import { isValidGtin } from "../../domain/gs1";

export type Target =
  | { kind: "batchId"; input: string; batchId: string }
  | { kind: "digitalLink"; input: string; gtin: bigint; lot: string };

export class UsageError extends Error {
  override name = "UsageError";
}

const BATCH_ID = /^0x[0-9a-fA-F]{64}$/;

export function parseTarget(input: string): Target {
  const raw = input.trim();
  if (BATCH_ID.test(raw)) return { kind: "batchId", input, batchId: raw.toLowerCase() };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(
      `"${input}" is neither a batch id (0x + 64 hex digits) nor a URL (…/b/<batchId> or …/01/<gtin>/10/<lot>)`,
    );
  }
  const segments = url.pathname.split("/").filter((s) => s.length > 0);
  // GS1 Digital Link: /01/<gtin>[/10/<lot>][/21/<serial>...]; a path prefix before /01/ is allowed.
  const at01 = segments.indexOf("01");
  if (at01 >= 0 && at01 + 1 < segments.length && /^\d{8,14}$/.test(segments[at01 + 1])) {
    const gtin = segments[at01 + 1];
    if (!isValidGtin(gtin)) throw new UsageError(`GTIN ${gtin} in ${input} has a wrong check digit`);
    const at10 = segments.indexOf("10", at01 + 2);
    if (at10 < 0 || at10 + 1 >= segments.length) {
      throw new UsageError(`${input}: a Digital Link needs a lot (/01/<gtin>/10/<lot>) to name one batch`);
    }
    let lot: string;
    try {
      lot = decodeURIComponent(segments[at10 + 1]);
    } catch {
      throw new UsageError(`${input}: the lot is not valid percent-encoding`);
    }
    return { kind: "digitalLink", input, gtin: BigInt(gtin), lot };
  }
  const b = segments.indexOf("b");
  if (b >= 0 && b + 1 < segments.length && BATCH_ID.test(segments[b + 1])) {
    return { kind: "batchId", input, batchId: segments[b + 1].toLowerCase() };
  }
  const any = segments.find((s) => BATCH_ID.test(s));
  if (any !== undefined) return { kind: "batchId", input, batchId: any.toLowerCase() };
  throw new UsageError(`${input}: no batch id (…/b/<batchId>) nor GS1 Digital Link (…/01/<gtin>/10/<lot>) in this URL`);
}
