/**
 * Shared zod building blocks of the services' input schemas (the API validates with them, the
 * workspace forms parse with them). Text is stored exactly as sent, length-limited, and refused when it
 * holds control characters or bidirectional overrides (which can make a label read differently from
 * what is stored: "Trojan Source").
 */
import { z } from "zod";
import { isValidGtin } from "../../domain/gs1";
import { isSafeText } from "../../domain/text";
import { isAddressText, toAddress } from "../chain/address";

export function text(max: number, min = 1) {
  return z
    .string()
    .min(min)
    .max(max)
    .refine(isSafeText, "must not contain control or bidirectional-override characters");
}

/** Byte-limited text, for fields the contracts limit in bytes (Arabic letters take two). */
export function bytesText(maxBytes: number, min = 1) {
  return text(maxBytes, min).refine(
    (s) => Buffer.byteLength(s, "utf8") <= maxBytes,
    `must be at most ${maxBytes} bytes in UTF-8`,
  );
}

export const address = z
  .string()
  .refine((s) => isAddressText(s), "must be an Ethereum address")
  .transform((s) => toAddress(s));

export const hexBytes = z
  .string()
  .regex(/^0x(?:[0-9a-fA-F]{2})*$/, "must be hex bytes (0x + an even number of hex digits)");

export const signature65 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte signature (0x + 130 hex digits)");

export const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of hex (0x + 64 hex digits)");

/** A non-negative integer that fits in `bits`, as a JSON number (safe) or a decimal string. */
export function uint(bits: number, min = 0n) {
  const max = (1n << BigInt(bits)) - 1n;
  return z
    .union([z.number().int().nonnegative(), z.string().regex(/^[0-9]{1,78}$/, "must be a decimal integer")])
    .transform((v) => BigInt(v))
    .refine((v) => v >= min && v <= max, `must be between ${min} and ${max}`);
}

/** The body of a POST that takes no input: nothing, or an empty object (so a stray `role` is refused). */
export const noBody = z.object({}).strict().optional();

export const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const paging = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const gtin = z
  .string()
  .refine(isValidGtin, "must be a GTIN-8/12/13/14 with a valid GS1 check digit")
  .transform((g) => BigInt(g));
