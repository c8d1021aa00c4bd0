/**
 * Signing the relayer's own transactions: EIP-1559 (type 2) and EIP-155 legacy (type 0) encoded
 * with viem's RLP over byte arrays, hashed with the native Keccak and signed with the native
 * secp256k1 (server/chain/keccak.ts, secp256k1.ts; viem's own code where they are missing). viem's
 * serializeTransaction gives the same bytes but goes through hex strings: 2.2 ms per version of a
 * 26 kB, 20-request executeBatch against 0.5 ms here (measured on this machine under load). A
 * property test compares the bytes with ethers' Wallet.signTransaction on random transactions.
 */
import { bytesToHex, toRlp, type Hex } from "viem";
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

/** A non-negative integer as RLP wants it: big-endian bytes, no leading zero, empty for 0. */
function uint(value: bigint | number | null | undefined, field: string): Uint8Array {
  const n = BigInt(value ?? -1);
  if (n < 0n) throw new Error(`transaction ${field} must be a non-negative integer`);
  if (n === 0n) return new Uint8Array(0);
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex");
}

function bytes(hex: string, field: string, pattern = HEX_BYTES): Uint8Array {
  if (typeof hex !== "string" || !pattern.test(hex)) throw new Error(`transaction ${field} must be hex bytes`);
  return Buffer.from(hex.slice(2), "hex");
}

type RlpItem = Uint8Array | RlpItem[];
const rlp = (items: RlpItem[]) => toRlp(items as never, "bytes");

/** The serialised signed transaction (EIP-2718 type 2, or EIP-155 type 0) and its hash. */
export async function signRelayerTransaction(
  privateKey: Uint8Array,
  tx: RelayerTxFields,
): Promise<{ raw: Hex; hash: Hex }> {
  const common = {
    nonce: uint(tx.nonce, "nonce"),
    gasLimit: uint(tx.gasLimit, "gasLimit"),
    to: bytes(tx.to, "to", ADDRESS),
    value: uint(tx.value, "value"),
    data: bytes(tx.data, "data"),
  };
  let raw: Uint8Array;
  if (tx.type === 2) {
    const fields: RlpItem[] = [
      uint(tx.chainId, "chainId"),
      common.nonce,
      uint(tx.maxPriorityFeePerGas, "maxPriorityFeePerGas"),
      uint(tx.maxFeePerGas, "maxFeePerGas"),
      common.gasLimit,
      common.to,
      common.value,
      common.data,
      [], // access list
    ];
    const sig = await signDigest(privateKey, keccak256Bytes(Buffer.concat([Buffer.of(2), rlp(fields)])));
    const signed = rlp([...fields, uint(sig.yParity, "yParity"), uint(BigInt(sig.r), "r"), uint(BigInt(sig.s), "s")]);
    raw = Buffer.concat([Buffer.of(2), signed]);
  } else if (tx.type === 0) {
    const fields = [common.nonce, uint(tx.gasPrice, "gasPrice"), common.gasLimit, common.to, common.value, common.data];
    const chainId = BigInt(tx.chainId);
    const sig = await signDigest(
      privateKey,
      keccak256Bytes(rlp([...fields, uint(chainId, "chainId"), uint(0, "r"), uint(0, "s")])),
    );
    const v = chainId * 2n + 35n + BigInt(sig.yParity); // EIP-155
    raw = rlp([...fields, uint(v, "v"), uint(BigInt(sig.r), "r"), uint(BigInt(sig.s), "s")]);
  } else {
    throw new Error(`transaction type ${String(tx.type)} is not supported`);
  }
  return { raw: bytesToHex(raw), hash: bytesToHex(keccak256Bytes(raw)) };
}
