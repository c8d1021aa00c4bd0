/**
 * Native secp256k1 for the keys the gateway holds. ethers signs with @noble/curves in JavaScript,
 * ~0.34 ms per signature; libsecp256k1 through the `secp256k1` package's native build (prebuilt
 * inside its npm package for Linux, macOS and Windows) takes ~0.04 ms, and gives the same
 * signature (RFC 6979 nonce, low s). Custody signs one EIP-712 request per write, so this is on the
 * hot path. It also lets custody sign from the decrypted key buffer, which it then zeroes, instead
 * of building an ethers SigningKey that keeps the key as an immutable hex string.
 *
 * Without the native build (another platform), ethers' SigningKey does the work.
 */
import { computeAddress, getBytes, hexlify, Signature, SigningKey } from "ethers";

type Native = typeof import("secp256k1");

function loadNative(): Native | null {
  try {
    // The bindings entry only: the package's own fallback is elliptic, slower than ethers' noble. A
    // require, not an import: the native build may be missing, and then ethers' code is used.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("secp256k1/bindings") as Native;
  } catch {
    return null;
  }
}

const native = loadNative();

/** Whether libsecp256k1 loaded. */
export const nativeSecp256k1Available = native !== null;

/** ECDSA signature of a 32-byte digest, as ethers' SigningKey.sign would give it. */
export function signDigest(privateKey: Uint8Array, digest: string | Uint8Array): Signature {
  const hash = getBytes(digest);
  if (hash.length !== 32) throw new Error("the digest must be 32 bytes");
  if (native === null) return new SigningKey(privateKey).sign(hash);
  const { signature, recid } = native.ecdsaSign(hash, privateKey);
  return Signature.from({
    r: hexlify(signature.subarray(0, 32)),
    s: hexlify(signature.subarray(32, 64)),
    yParity: recid as 0 | 1,
  });
}

/** The Ethereum address of a private key. */
export function addressOf(privateKey: Uint8Array): string {
  if (native === null) return computeAddress(new SigningKey(privateKey).publicKey);
  return computeAddress(hexlify(native.publicKeyCreate(privateKey, false)));
}
