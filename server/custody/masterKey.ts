/**
 * The master key that encrypts every custodial key. It comes from KEYSTORE_KEY; in development and
 * tests, when that is unset, a key is generated once into DATA_DIR/keystore.key (mode 0600) and
 * reused on every later start. In production the gateway refuses to start without KEYSTORE_KEY.
 *
 * The key file is never overwritten: a new key would make every stored custodial key unreadable.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import type { Config } from "../config";
import type { Logger } from "../log";

export const DEV_KEY_FILE = "keystore.key";

export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MasterKeyError";
  }
}

const HEX_KEY = /^(0x)?([0-9a-fA-F]{64})$/;

function parseHexKey(text: string): Buffer | undefined {
  const m = HEX_KEY.exec(text.trim());
  return m ? Buffer.from(m[2], "hex") : undefined;
}

export function resolveMasterKey(config: Config, log: Logger): Buffer {
  if (config.keystoreKey !== undefined) {
    const key = parseHexKey(config.keystoreKey);
    // The message names the variable, never its value.
    if (!key) throw new MasterKeyError("KEYSTORE_KEY must be 32 bytes of hex (64 hex digits, optional 0x)");
    return key;
  }
  if (config.env === "production") {
    throw new MasterKeyError("KEYSTORE_KEY is required when NODE_ENV=production (32 bytes of hex)");
  }
  const file = path.join(config.dataDir, DEV_KEY_FILE);
  const existing = readKeyFile(file, log);
  if (existing) {
    log.warn({ file }, "KEYSTORE_KEY is not set: using the development master key file");
    return existing;
  }
  const key = createKeyFile(file);
  log.warn(
    { file },
    "KEYSTORE_KEY is not set: generated a development master key file; back it up (losing it loses every custodial key) and never use it in production",
  );
  return key;
}

/** Reads an existing key file, tightening its mode if it is readable by others. */
function readKeyFile(file: string, log: Logger): Buffer | undefined {
  let stat;
  try {
    stat = statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  if (!stat.isFile()) throw new MasterKeyError(`${file} is not a regular file`);
  if (process.platform !== "win32" && (stat.mode & 0o077) !== 0) {
    chmodSync(file, 0o600);
    log.warn(
      { file, mode: (stat.mode & 0o777).toString(8) },
      "the development master key file was readable by others: its mode is now 0600",
    );
  }
  const key = parseHexKey(readFileSync(file, "utf8"));
  if (!key) {
    throw new MasterKeyError(
      `${file} does not hold a 32-byte hex key; restore it from a backup or set KEYSTORE_KEY (a new key would not decrypt the stored keys)`,
    );
  }
  return key;
}

/**
 * Creates the key file atomically and without overwriting: the key is written and synced to a
 * private temporary file, then hard-linked into place (which fails if the file appeared meanwhile,
 * e.g. a second gateway starting at the same time; then that file wins).
 */
function createKeyFile(file: string): Buffer {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, `${key.toString("hex")}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    key.fill(0);
    const winner = parseHexKey(readFileSync(file, "utf8"));
    if (!winner) throw new MasterKeyError(`${file} does not hold a 32-byte hex key`);
    return winner;
  } finally {
    unlinkSync(tmp);
  }
  return key;
}
