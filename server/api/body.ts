/**
 * JSON request bodies: the raw bytes are kept (idempotency hashes them, not a re-serialisation of the
 * parsed value), and a body nested deeper than MAX_JSON_DEPTH is refused before it is parsed. Deep
 * nesting is never useful here (the deepest body the API accepts has 3 levels) and a 64 KB body can
 * nest 32,000 levels: recursive code (hashing, validation, logging) would overflow the stack on it
 * and answer 500 (issue 10, finding 6). The depth is measured by a loop over the bytes, without
 * recursion and without parsing.
 */
import type { IncomingMessage } from "node:http";
import { ApiError } from "./problem";

export const MAX_JSON_DEPTH = 32;

declare module "http" {
  interface IncomingMessage {
    /** The request body as received, when a body parser read it (JSON bodies). */
    rawBody?: Buffer;
  }
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest nesting of arrays and objects in `text` (UTF-8 bytes or a string), ignoring brackets
 * inside strings; stops counting as soon as `limit` is exceeded. Invalid JSON is left to the parser.
 */
export function jsonDepthExceeds(text: Uint8Array | string, limit: number): boolean {
  const at = typeof text === "string" ? (i: number) => text.charCodeAt(i) : (i: number) => text[i];
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = at(i);
    if (inString) {
      if (ch === BACKSLASH) i++;
      else if (ch === QUOTE) inString = false;
    } else if (ch === QUOTE) inString = true;
    else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** The `verify` option of express.json: keeps the raw body and refuses one nested too deep. */
export function verifyJsonBody(req: IncomingMessage, _res: unknown, buf: Buffer, encoding: string): void {
  req.rawBody = buf;
  let text: Uint8Array | string = buf;
  // In UTF-8 a byte of an ASCII value is that character; other charsets (UTF-16) are decoded first.
  if (!/^utf-?8$/i.test(encoding)) {
    try {
      text = new TextDecoder(encoding).decode(buf);
    } catch {
      throw new ApiError(415, "unsupported_encoding", "send JSON in UTF-8");
    }
  }
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    throw new ApiError(400, "json_too_deep", `the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`, {
      maxDepth: MAX_JSON_DEPTH,
    });
  }
}
