/**
 * Keccak-256 for the gateway's hot paths (the relayer's transaction hashes: ~26 kB for a
 * 20-request executeBatch). viem hashes with @noble/hashes' JavaScript Keccak (~2.3 ms for 26 kB);
 * the native Keccak state of the `keccak` package (prebuilt for Linux, macOS and Windows inside its
 * npm package, loaded the way the package loads it, with node-gyp-build) takes ~0.09 ms. Its stream
 * wrapper is skipped: one state is reused, hashing is synchronous. When the native build cannot be
 * loaded, viem's implementation is used. The results are the same bytes (a test compares both on
 * random inputs). This file is the one adapter to the native code.
 */
import path from "node:path";
import nodeGypBuild from "node-gyp-build";
import { keccak256 as viemKeccak256 } from "viem";

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

/** Keccak-256 (rate 1088, capacity 512, padding 0x01) of `data` with the native build; throws without it. */
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

/** Keccak-256 of `data`, native when available, else viem's. */
export function keccak256Bytes(data: Uint8Array): Uint8Array {
  return state !== null ? nativeKeccak256(data) : viemKeccak256(data, "bytes");
}
