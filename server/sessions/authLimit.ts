/**
 * Failed authentications per client address: bad bearer tokens on the API and failed sign-ins on the
 * pages count in one budget per address (guessing through the pages or the API is the same guessing).
 * Past `perMinute` failures in a minute, the address is refused every attempt, right or wrong, until
 * the minute is over: checking a token while refusing the wrong ones would leave a right/wrong oracle,
 * which matters for short secrets such as the members' PINs. Successes are never counted or slowed.
 *
 * Addresses are counted per IPv4 address and per IPv6 /64 (one host usually holds a whole /64). The
 * state is in memory, bounded in entries; a restart forgets it, which only gives back one minute.
 * No Express here; the HTTP parts map `retryAfter` to a 429.
 */
import { isIPv6 } from "node:net";
import type { Logger } from "../log";

export interface AuthLimiter {
  /** Seconds until `address` may try again; 0 when it may try now. */
  retryAfter(address: string | undefined): number;
  /**
   * Counts a failure of `address` and logs it as a warning with the address and `reason` only (never
   * the secret that failed). Returns retryAfter(address) after counting it.
   */
  fail(address: string | undefined, reason: string): number;
}

export interface AuthLimiterOptions {
  /** Failures allowed per address and minute; the next attempt in that minute answers 429. */
  perMinute: number;
  log: Logger;
  /** Addresses remembered at most (oldest dropped first). */
  maxEntries?: number;
  now?: () => number;
}

const WINDOW_MS = 60_000;

interface Entry {
  windowStart: number;
  failures: number;
  /** The refusal of this window has been logged (one line per address and minute, not one per request). */
  refusalLogged: boolean;
}

/** The key an address is counted under: IPv4 (also IPv4-mapped IPv6) as is, IPv6 by its /64. */
export function addressKey(address: string | undefined): string {
  if (!address) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head, tail = ""] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = address.includes("::")
    ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")
    .concat("::/64");
}

export function createAuthLimiter(options: AuthLimiterOptions): AuthLimiter {
  const { perMinute, log } = options;
  const maxEntries = options.maxEntries ?? 50_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();

  const current = (key: string, t: number): Entry | undefined => {
    const e = entries.get(key);
    if (e !== undefined && t - e.windowStart >= WINDOW_MS) {
      entries.delete(key);
      return undefined;
    }
    return e;
  };
  const secondsLeft = (e: Entry, t: number) => Math.max(1, Math.ceil((e.windowStart + WINDOW_MS - t) / 1000));

  return {
    retryAfter(address) {
      const key = addressKey(address);
      const t = now();
      const e = current(key, t);
      if (e === undefined || e.failures < perMinute) return 0;
      if (!e.refusalLogged) {
        e.refusalLogged = true;
        log.warn({ ip: address, failures: e.failures }, "authentication attempts refused until the minute is over");
      }
      return secondsLeft(e, t);
    },

    fail(address, reason) {
      const key = addressKey(address);
      const t = now();
      let e = current(key, t);
      if (e === undefined) {
        if (entries.size >= maxEntries) {
          // Entries are in insertion order, so the first ones are the oldest windows.
          for (const k of entries.keys()) {
            entries.delete(k);
            if (entries.size < maxEntries * 0.9) break;
          }
        }
        e = { windowStart: t, failures: 0, refusalLogged: false };
        entries.set(key, e);
      }
      e.failures += 1;
      log.warn({ ip: address, reason, failures: e.failures }, "authentication failed");
      return e.failures < perMinute ? 0 : secondsLeft(e, t);
    },
  };
}
