/**
 * A batch's id, as BatchRegistry computes it: keccak256(abi.encode(uint64 cooperativeId, string lotCode)).
 * The lot code is unique per cooperative, so the id needs no counter; anyone can compute it.
 */
import { encodeAbiParameters, keccak256 } from "viem";

export function batchIdOf(cooperativeId: bigint, lotCode: string): string {
  return keccak256(encodeAbiParameters([{ type: "uint64" }, { type: "string" }], [cooperativeId, lotCode]));
}
