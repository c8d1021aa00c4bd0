/**
 * The data folder belongs to one gateway at a time. Two gateways on one folder would run two anvil
 * nodes saving to the same chain state file (its block number flipping between them) and two
 * relayers spending the same nonces.
 *
 * The lock is a file, DATA_DIR/gateway.lock, that names its holder (pid, host, the process's start
 * time and the machine's boot id). It is created atomically (written to a private temporary file,
 * then hard-linked into place, which fails if the file exists), so a reader never sees it half
 * written. A gateway that dies without removing it (SIGKILL, power loss) leaves a stale lock: the
 * next start takes it over when the holder is provably gone (no such pid, or that pid now belongs to
 * a process that started at another time, or the machine rebooted since). A lock held on another
 * host cannot be checked from here and is never taken over.
 *
 * This module also secures the folder itself: 0700, so that the keys, tokens and database inside are
 * readable by the gateway's user only.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import type { Logger } from "../log";

export const LOCK_FILE = "gateway.lock";

interface Holder {
  pid: number;
  host: string;
  /** Start time of the process in clock ticks since boot (Linux /proc/<pid>/stat field 22). */
  startTime?: string;
  /** /proc/sys/kernel/random/boot_id: a new value after every reboot. */
  bootId?: string;
  /** Random: tells this lock from a later one of the same process. */
  nonce: string;
  since: string;
}

export interface DataDirLock {
  file: string;
  /** Removes the lock if it is still this one. Idempotent. */
  release(): void;
}

/** Lock files held by this process (a second startGateway in the same process must be refused too). */
const held = new Map<string, string>();
process.once("exit", () => {
  // A process.exit() without stop(): the lock still goes with the process.
  for (const [file, nonce] of held) removeIfOurs(file, nonce);
});

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The start time of a process (Linux), undefined elsewhere or when it is gone. */
export function processStartTime(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

const bootId = () => readText("/proc/sys/kernel/random/boot_id");

/** True when the process exists (a zombie, already dead but not yet reaped, counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = readText(`/proc/${pid}/stat`);
  return stat === undefined || stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}

function parseHolder(text: string | undefined): Holder | undefined {
  if (text === undefined) return undefined;
  try {
    const h = JSON.parse(text) as Holder;
    return Number.isInteger(h.pid) && typeof h.host === "string" && typeof h.nonce === "string" ? h : undefined;
  } catch {
    return undefined;
  }
}

/** Why a recorded holder is certainly gone, or undefined when it may still run. */
function goneBecause(h: Holder): string | undefined {
  if (h.host !== hostname()) return undefined;
  const boot = bootId();
  if (h.bootId !== undefined && boot !== undefined && h.bootId !== boot) return "the machine restarted since";
  if (h.pid === process.pid) {
    return [...held.values()].includes(h.nonce) ? undefined : "an earlier process had this pid";
  }
  if (!processAlive(h.pid)) return `process ${h.pid} is not running`;
  const start = processStartTime(h.pid);
  if (h.startTime !== undefined && start !== undefined && start !== h.startTime) {
    return `pid ${h.pid} now belongs to another process`;
  }
  return undefined;
}

function removeIfOurs(file: string, nonce: string): void {
  if (parseHolder(readText(file))?.nonce !== nonce) return;
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/** Writes the lock atomically; false when a lock file is already there. */
function tryCreate(file: string, holder: Holder): boolean {
  const tmp = `${file}.${holder.nonce}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, JSON.stringify(holder) + "\n");
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Takes the data folder for this process, or throws (through `error`, so that the caller chooses the
 * error class) naming the process that holds it.
 */
export function acquireDataDirLock(
  dataDir: string,
  options: { log: Logger; error?: (message: string) => Error },
): DataDirLock {
  const fail = options.error ?? ((message: string) => new Error(message));
  const file = path.join(dataDir, LOCK_FILE);
  const holder: Holder = {
    pid: process.pid,
    host: hostname(),
    startTime: processStartTime(process.pid),
    bootId: bootId(),
    nonce: randomBytes(12).toString("hex"),
    since: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(file, holder)) {
      held.set(file, holder.nonce);
      return {
        file,
        release() {
          if (held.get(file) !== holder.nonce) return;
          held.delete(file);
          removeIfOurs(file, holder.nonce);
        },
      };
    }
    const text = readText(file);
    if (text === undefined) continue; // removed meanwhile: try again
    const other = parseHolder(text);
    if (other === undefined) {
      // Lock files are written whole (linked into place), so this one was damaged, or edited by hand.
      throw fail(
        `${file} exists but does not name a gateway process; if no gateway runs on DATA_DIR ${dataDir}, delete it`,
      );
    }
    const reason = goneBecause(other);
    if (reason === undefined) {
      const where = other.host === hostname() ? "" : ` on host ${other.host}`;
      throw fail(
        `DATA_DIR ${dataDir} is in use by the gateway process ${other.pid}${where} (${file}, since ${other.since}); ` +
          (where
            ? `stop it first (a process on another host cannot be checked from here: if it is stopped, delete ${file})`
            : "stop it first"),
      );
    }
    // Take the stale lock over without removing a fresh one that another starter may have just put
    // in its place: move it aside (atomic), and look at what was moved.
    const aside = `${file}.${holder.nonce}.stale`;
    try {
      renameSync(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw err;
    }
    const moved = parseHolder(readText(aside));
    if (moved?.nonce !== other.nonce) {
      // Another gateway took the stale lock over first: put its lock back, then look again.
      try {
        linkSync(aside, file);
      } catch {
        // a third one is there now; the next round reads it
      }
    } else {
      options.log.warn(
        { file, stalePid: other.pid, since: other.since, reason },
        `took over the lock of DATA_DIR from gateway process ${other.pid}, which did not stop cleanly (${reason})`,
      );
    }
    unlinkSync(aside);
  }
  throw fail(`could not take ${file}: other gateways are starting on DATA_DIR ${dataDir} at the same time`);
}

/**
 * Creates the data folder, or tightens an existing one, to 0700: the keystore key, tokens, database
 * and chain state inside are for the gateway's user only. Files inside are created 0600 by their
 * modules; files left by earlier versions (0644, folders 0755) lose their group and other bits here.
 * Symbolic links are not followed: what they point to is the operator's choice.
 */
export function secureDataDir(dataDir: string, log: Logger): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (process.platform === "win32") return;
  const mode = statSync(dataDir).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    chmodSync(dataDir, mode & 0o700);
    log.warn(
      { dataDir, mode: mode.toString(8) },
      "the data folder was open to other users: its mode is now 0700 (owner only)",
    );
  }
  const tightened: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (!entry.isFile() && !entry.isDirectory()) continue;
      const m = lstatSync(full).mode & 0o777;
      if ((m & 0o077) !== 0) {
        chmodSync(full, m & 0o700);
        tightened.push(path.relative(dataDir, full));
      }
      if (entry.isDirectory() && depth < 4) walk(full, depth + 1);
    }
  };
  walk(dataDir, 0);
  if (tightened.length > 0) {
    log.warn(
      { dataDir, files: tightened.slice(0, 20), count: tightened.length },
      "files in the data folder were readable by other users: they are now owner-only",
    );
  }
}

/** Removes the group and other bits of a file or folder (0644 → 0600, 0755 → 0700); quiet if absent. */
export function makePrivate(file: string): void {
  if (process.platform === "win32") return;
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) chmodSync(file, mode & 0o700);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
