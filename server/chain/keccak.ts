/**
 * Native Keccak-256 for ethers. ethers hashes with @noble/hashes' JavaScript Keccak: ~14 µs for the
 * 40 characters of an address checksum (ethers checksums every address it decodes or formats),
 * ~2.3 ms for the 26 kB of a 20-request executeBatch transaction. The native Keccak state of the
 * `keccak` package (prebuilt for Linux, macOS and Windows inside its npm package, loaded the way
 * the package loads it, with node-gyp-build) takes ~2.4 µs and ~0.09 ms. Its stream wrapper is
 * skipped: one state is reused, hashing is synchronous. When the native build cannot be loaded,
 * ethers keeps its own implementation. The results are the same bytes (a test compares both on
 * random inputs).
 */
import path from "node:path";
import nodeGypBuild from "node-gyp-build";
import { keccak256 } from "ethers";

interface KeccakState {
  initialize(rate: number, capacity: number): void;
  absorb(data: Buffer): void;
  absorbLastFewBits(bits: number): void;
  squeeze(length: number): Buffer;
}

function loadState(): KeccakState | null {
  try {
    const State = nodeGypBuild(path.dirname(require.resolve("keccak/package.json"))) as unknown;
    if (typeof State !== "function") return null;
    return new (State as new () => KeccakState)();
  } catch {
    return null;
  }
}

const state = loadState();

/** Keccak-256 (rate 1088, capacity 512, padding 0x01) of `data`; null when the native build is missing. */
export function nativeKeccak256(data: Uint8Array): Uint8Array {
  if (state === null) throw new Error("the native keccak build is not available");
  state.initialize(1088, 512);
  state.absorb(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  state.absorbLastFewBits(0x01);
  const digest = state.squeeze(32);
  return new Uint8Array(digest.buffer, digest.byteOffset, 32);
}

/** Whether the native implementation loaded. */
export const nativeKeccakAvailable = state !== null;

let registered = false;

/** Makes ethers' keccak256 (and everything built on it) use the native implementation, once per process. */
export function useNativeKeccak(): boolean {
  if (!registered && state !== null) {
    keccak256.register(nativeKeccak256);
    registered = true;
  }
  return registered;
}
