/**
 * Signing the relayer's own transactions: EIP-1559 (type 2) and EIP-155 legacy (type 0) serialised
 * by viem's serializeTransaction, hashed with the native Keccak and signed with the native
 * secp256k1 (server/chain/keccak.ts, secp256k1.ts; viem's own code where they are missing): the
 * 26 kB of a 20-request executeBatch are hashed twice per version. A property test compares the
 * bytes with ethers' Wallet.signTransaction on random transactions.
 */
import { bytesToHex, hexToBytes, serializeTransaction, type Hex, type TransactionSerializable } from "viem";
import { keccak256Bytes } from "../chain/keccak";
import { signDigest } from "../chain/secp256k1";

export interface RelayerTxFields {
  type: 0 | 2;
  chainId: bigint;
  nonce: number;
  to: string;
  /** 0x-prefixed hex. */
  data: string;
  value: bigint;
  gasLimit: bigint;
  /** Type 2. */
  maxFeePerGas?: bigint | null;
  maxPriorityFeePerGas?: bigint | null;
  /** Type 0. */
  gasPrice?: bigint | null;
}

const HEX_BYTES = /^0x(?:[0-9a-fA-F]{2})*$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function uint(value: bigint | number | null | undefined, field: string): bigint {
  const n = BigInt(value ?? -1);
  if (n < 0n) throw new Error(`transaction ${field} must be a non-negative integer`);
  return n;
}

function bytes(hex: string, field: string, pattern = HEX_BYTES): Hex {
  if (typeof hex !== "string" || !pattern.test(hex)) throw new Error(`transaction ${field} must be hex bytes`);
  return hex as Hex;
}

/** The serialised signed transaction (EIP-2718 for type 2, EIP-155 for type 0) and its hash. */
export async function signRelayerTransaction(
  privateKey: Uint8Array,
  tx: RelayerTxFields,
): Promise<{ raw: Hex; hash: Hex }> {
  const chainId = uint(tx.chainId, "chainId");
  // EIP-2294 bounds chain ids far below 2^53; viem takes them as numbers.
  if (chainId > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error("transaction chainId is out of range");
  const common = {
    chainId: Number(chainId),
    nonce: Number(uint(tx.nonce, "nonce")),
    gas: uint(tx.gasLimit, "gasLimit"),
    to: bytes(tx.to, "to", ADDRESS).toLowerCase() as Hex,
    value: uint(tx.value, "value"),
    data: bytes(tx.data, "data"),
  };
  let unsigned: TransactionSerializable;
  if (tx.type === 2) {
    unsigned = {
      ...common,
      type: "eip1559",
      maxPriorityFeePerGas: uint(tx.maxPriorityFeePerGas, "maxPriorityFeePerGas"),
      maxFeePerGas: uint(tx.maxFeePerGas, "maxFeePerGas"),
    };
  } else if (tx.type === 0) {
    unsigned = { ...common, type: "legacy", gasPrice: uint(tx.gasPrice, "gasPrice") };
  } else {
    throw new Error(`transaction type ${String(tx.type)} is not supported`);
  }
  const digest = keccak256Bytes(hexToBytes(serializeTransaction(unsigned)));
  const sig = await signDigest(privateKey, digest);
  // Legacy: viem derives the EIP-155 v (chainId * 2 + 35 + yParity) from v = 27 + yParity.
  const raw = serializeTransaction(unsigned, {
    r: sig.r,
    s: sig.s,
    yParity: sig.yParity,
    v: 27n + BigInt(sig.yParity),
  });
  return { raw, hash: bytesToHex(keccak256Bytes(hexToBytes(raw))) };
}
