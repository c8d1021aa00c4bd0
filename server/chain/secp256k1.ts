/**
 * Native secp256k1 for the keys the gateway holds. viem signs with @noble/curves in JavaScript,
 * ~0.34 ms per signature; libsecp256k1 through the `secp256k1` package's native build (prebuilt
 * inside its npm package for Linux, macOS and Windows) takes ~0.04 ms, and gives the same
 * signature (RFC 6979 nonce, low s). Custody signs one EIP-712 request per write and the relayer
 * one transaction per batch, so this is on the hot path. It also lets custody sign from the
 * decrypted key buffer, which it then zeroes, instead of keeping the key as an immutable hex string.
 *
 * Without the native build (another platform), viem's `sign` does the work. This file is the one
 * adapter to the native code.
 */
import { bytesToHex, serializeSignature, toBytes, type Hex } from "viem";
import { privateKeyToAddress, publicKeyToAddress, sign } from "viem/accounts";

type Native = typeof import("secp256k1");

function loadNative(): Native | null {
  try {
    // The bindings entry only: the package's own fallback is elliptic, slower than noble. A
    // require, not an import: the native build may be missing, and then viem's code is used.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("secp256k1/bindings") as Native;
  } catch {
    return null;
  }
}

const native = loadNative();

/** Whether libsecp256k1 loaded. */
export const nativeSecp256k1Available = native !== null;

export interface Signature {
  r: Hex;
  s: Hex;
  yParity: 0 | 1;
  /** r, s and v (27 + yParity) in 65 bytes, as eth_signTypedData gives it. */
  serialized: Hex;
}

/**
 * ECDSA signature of a 32-byte digest. The key is read before this returns (the caller may zero it
 * then); the signature may come later (viem's sign is asynchronous).
 */
export function signDigest(privateKey: Uint8Array, digest: Hex | Uint8Array): Promise<Signature> {
  try {
    const hash = typeof digest === "string" ? toBytes(digest) : digest;
    if (hash.length !== 32) throw new Error("the digest must be 32 bytes");
    if (native === null) {
      return sign({ hash: bytesToHex(hash), privateKey: bytesToHex(privateKey), to: "object" }).then((sig) =>
        sigOf(sig.r, sig.s, sig.yParity as 0 | 1),
      );
    }
    const { signature, recid } = native.ecdsaSign(hash, privateKey);
    return Promise.resolve(
      sigOf(bytesToHex(signature.subarray(0, 32)), bytesToHex(signature.subarray(32, 64)), recid as 0 | 1),
    );
  } catch (err) {
    return Promise.reject(err as Error);
  }
}

function sigOf(r: Hex, s: Hex, yParity: 0 | 1): Signature {
  return { r, s, yParity, serialized: serializeSignature({ r, s, yParity }) };
}

/** The (checksummed) Ethereum address of a private key. */
export function addressOf(privateKey: Uint8Array): Hex {
  if (native === null) return privateKeyToAddress(bytesToHex(privateKey));
  return publicKeyToAddress(bytesToHex(native.publicKeyCreate(privateKey, false)));
}
