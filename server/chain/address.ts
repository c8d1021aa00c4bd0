/**
 * Addresses as the gateway has always accepted them (ethers' getAddress rules, kept so that the
 * API refuses and accepts exactly what it did): 40 hex digits with or without 0x; all lower or all
 * upper case is taken as is, mixed case must be the right EIP-55 checksum. viem's getAddress does
 * not check a mixed-case checksum, hence this one function. Checksums are computed by viem (cached).
 */
import { checksumAddress, type Hex } from "viem";

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000" as const;
export const ZERO_HASH = "0x0000000000000000000000000000000000000000000000000000000000000000" as const;

const ADDRESS = /^(0x)?[0-9a-fA-F]{40}$/;
const MIXED_CASE = /([A-F].*[a-f])|([a-f].*[A-F])/;

/** The checksummed address; throws on anything else, or on a mixed-case address with a wrong checksum. */
export function toAddress(value: string): Hex {
  if (typeof value !== "string" || !ADDRESS.test(value)) throw new TypeError(`invalid address: ${String(value)}`);
  const prefixed = (value.startsWith("0x") ? value : `0x${value}`) as Hex;
  const result = checksumAddress(prefixed);
  if (MIXED_CASE.test(prefixed.slice(2)) && result !== prefixed) throw new TypeError("bad address checksum");
  return result;
}

/** Whether toAddress accepts `value`. */
export function isAddressText(value: unknown): boolean {
  try {
    toAddress(value as string);
    return true;
  } catch {
    return false;
  }
}
