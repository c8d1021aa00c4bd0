/**
 * A batch's id, as BatchRegistry computes it: keccak256(abi.encode(uint64 cooperativeId, bytes32 lotCode)),
 * the lot code as a padded word (domain/words.ts). The lot code is unique per cooperative, so the id
 * needs no counter; anyone can compute it.
 */
import { encodeAbiParameters, keccak256 } from "viem";
import { MAX_LOT_BYTES, textToWord, utf8Length } from "./words";

/** The zero id, which no batch has: what a lot code that cannot exist (empty, over 20 bytes) names. */
const NO_BATCH = `0x${"00".repeat(32)}`;

export function batchIdOf(cooperativeId: bigint, lotCode: string): string {
  const length = utf8Length(lotCode);
  if (length === 0 || length > MAX_LOT_BYTES) return NO_BATCH;
  return keccak256(
    encodeAbiParameters([{ type: "uint64" }, { type: "bytes32" }], [cooperativeId, textToWord(lotCode, MAX_LOT_BYTES)]),
  );
}
