/**
 * Users the gateway serves, their bearer tokens and their custodial keys.
 *
 * - Tokens are 32 random bytes (base64url, prefixed `ct_`), shown once; only their SHA-256 is stored.
 * - Every role but auditor gets a secp256k1 key generated here, encrypted at rest by the keystore
 *   (the user id and key version are its associated data), decrypted only for the duration of a
 *   signature. A user may export its key once (self-custody); the gateway then forgets it.
 * - Keys and tokens never reach a log, an error message or the database in clear.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { bytesToHex, concat, hashDomain, hashStruct, keccak256, type Hex, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { toAddress } from "../chain/address";
import type { TypedDataDomain, TypedDataField } from "../chain/typedData";
import type { Migrations, Db } from "../store/db";
import type { Logger } from "../log";
import type { Keystore } from "./keystore";
import { isSafeName } from "../../domain/text";
import { addressOf, signDigest } from "../chain/secp256k1";

export const ROLES = [
  "platform_admin",
  "registrar",
  "coop_admin",
  "member",
  "buyer",
  "certifier",
  "arbiter",
  "auditor",
] as const;
export type Role = (typeof ROLES)[number];

/** Roles that may belong to one cooperative; every other role must not name one. */
export const COOPERATIVE_ROLES: readonly Role[] = ["coop_admin", "member"];

/** The exact sentence exportKey requires: exporting is deliberate and cannot be undone. */
export const EXPORT_CONFIRMATION = "I understand the gateway will no longer sign for me";

export const DISPLAY_NAME_MAX = 200;

/** Key version of the keys generated now (part of the encryption's associated data). */
const CURRENT_KEY_VERSION = 1;

const TOKEN_PREFIX = "ct_";
const TOKEN_SHAPE = /^ct_[A-Za-z0-9_-]{43}$/; // 32 bytes in base64url without padding

export const custodyMigrations: Migrations = {
  module: "custody",
  steps: [
    `CREATE TABLE users (
       id             TEXT PRIMARY KEY,
       role           TEXT NOT NULL CHECK (role IN (${ROLES.map((r) => `'${r}'`).join(", ")})),
       cooperative_id INTEGER,
       display_name   TEXT NOT NULL,
       address        TEXT UNIQUE,
       encrypted_key  BLOB,
       key_version    INTEGER NOT NULL,
       custody        TEXT NOT NULL CHECK (custody IN ('gateway', 'self', 'none')),
       created_at     TEXT NOT NULL,
       created_by     TEXT REFERENCES users (id),
       CHECK ((custody = 'gateway') = (encrypted_key IS NOT NULL)),
       CHECK ((custody = 'none') = (address IS NULL))
     ) STRICT;
     CREATE INDEX users_by_role ON users (role, cooperative_id);
     CREATE INDEX users_by_cooperative ON users (cooperative_id);
     CREATE TABLE user_tokens (
       token_hash BLOB PRIMARY KEY,
       user_id    TEXT NOT NULL REFERENCES users (id),
       created_at TEXT NOT NULL,
       revoked_at TEXT
     ) STRICT;
     CREATE INDEX user_tokens_by_user ON user_tokens (user_id) WHERE revoked_at IS NULL;`,
  ],
};

export type Custody = "gateway" | "self" | "none";

export interface User {
  id: string;
  role: Role;
  cooperativeId: number | null;
  displayName: string;
  /** Checksummed address; null for auditors (no key). */
  address: string | null;
  custody: Custody;
  createdAt: string;
  createdBy: string | null;
}

export type CustodyErrorCode =
  | "invalid_text"
  | "invalid_input"
  | "unknown_user"
  | "no_key"
  | "self_custody"
  | "key_unavailable"
  | "wrong_signer"
  | "confirmation_required";

/** A domain error; its message never holds a key, a token or user text. */
export class CustodyError extends Error {
  constructor(
    readonly code: CustodyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "CustodyError";
  }
}

export interface UserStore {
  /** Creates a user and returns its bearer token, the only time it is shown. */
  create(input: { role: Role; displayName: string; cooperativeId?: number; createdBy?: string }): {
    user: User;
    token: string;
  };
  /** The user holding this token; null when the token is unknown, malformed or revoked. */
  authenticate(token: string): User | null;
  get(id: string): User | undefined;
  findByAddress(address: string): User | undefined;
  list(filter?: { role?: Role; cooperativeId?: number }): User[];
  /** Revokes every token of the user. */
  revokeToken(userId: string): void;
  /** Revokes every token of the user and returns a new one, shown once. */
  rotateToken(userId: string): string;
  /**
   * Signs EIP-712 typed data with the user's custodial key, which must be `signer`'s (the address
   * the caller will present the signature as): 'wrong_signer' otherwise.
   */
  signTypedData(
    userId: string,
    signer: string,
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
  /** Returns the private key (0x hex) once and switches the user to self-custody. */
  exportKey(userId: string, confirm: string): string;
  /**
   * Runs `use` with the user's custodial account (viem), for the user's own transactions (a buyer
   * paying into escrow from its account). The key is decrypted for this call only; `use` must not
   * keep the account.
   */
  withAccount<T>(userId: string, use: (account: LocalAccount) => Promise<T>): Promise<T>;
  /** Deletes a user created in the same request whose on-chain step was refused (never used since). */
  remove(userId: string): void;
}

interface KeyRow {
  address: string | null;
  encrypted_key: Buffer | null;
  key_version: number;
  custody: Custody;
}

/** The columns of a user, named as User's fields: a row read with them is a User. */
const USER_COLUMNS =
  "id, role, cooperative_id AS cooperativeId, display_name AS displayName, address, custody, created_at AS createdAt, created_by AS createdBy";

/** Display names are stored exactly as given: only checked, never normalised. */
export function validateDisplayName(name: unknown): string {
  if (typeof name !== "string" || /\p{Cs}/u.test(name)) {
    throw new CustodyError("invalid_text", "displayName must be text");
  }
  const length = [...name].length;
  if (name.trim().length === 0 || length > DISPLAY_NAME_MAX) {
    throw new CustodyError("invalid_text", `displayName must hold 1 to ${DISPLAY_NAME_MAX} characters`);
  }
  if (!isSafeName(name)) {
    throw new CustodyError("invalid_text", "displayName must not contain control or bidi-override characters");
  }
  return name;
}

// Domain separators by domain: the relayer signs under the same domain every time.
const domainSeparators = new Map<string, Hex>();

/** The EIP-712 types of the domain's fields that are present, in the standard's order. */
function domainTypes(domain: TypedDataDomain): TypedDataField[] {
  return [
    domain.name != null && { name: "name", type: "string" },
    domain.version != null && { name: "version", type: "string" },
    domain.chainId != null && { name: "chainId", type: "uint256" },
    domain.verifyingContract != null && { name: "verifyingContract", type: "address" },
    domain.salt != null && { name: "salt", type: "bytes32" },
  ].filter((f): f is TypedDataField => f !== false);
}

/** The domain's present fields, the chain id as a bigint. */
function domainValues(domain: TypedDataDomain): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name } of domainTypes(domain)) {
    const v = domain[name as keyof TypedDataDomain];
    out[name] = name === "chainId" ? BigInt(v as bigint) : v instanceof Uint8Array ? bytesToHex(v) : v;
  }
  return out;
}

/**
 * The EIP-712 digest (viem's hashTypedData without its validation pass), with the domain separator
 * cached. The primary type is the one type of `types` no other type refers to.
 */
function typedDataDigest(
  domain: TypedDataDomain,
  types: Record<string, TypedDataField[]>,
  value: Record<string, unknown>,
): Hex {
  const domainKey = JSON.stringify(domain, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
  let separator = domainSeparators.get(domainKey);
  if (separator === undefined) {
    separator = hashDomain({ domain: domainValues(domain), types: { EIP712Domain: domainTypes(domain) } } as never);
    if (domainSeparators.size >= 64) domainSeparators.clear();
    domainSeparators.set(domainKey, separator);
  }
  const primaryType = primaryTypeOf(types);
  return keccak256(concat(["0x1901", separator, hashStruct({ data: value, primaryType, types } as never)]));
}

const primaryTypes = new WeakMap<Record<string, TypedDataField[]>, string>();

function primaryTypeOf(types: Record<string, TypedDataField[]>): string {
  let primary = primaryTypes.get(types);
  if (primary === undefined) {
    const referenced = new Set(
      Object.values(types).flatMap((fields) => fields.map((f) => f.type.replace(/\[\d*\]$/, ""))),
    );
    const roots = Object.keys(types).filter((t) => !referenced.has(t));
    if (roots.length !== 1) throw new Error(`EIP-712 types have ${roots.length} primary types`);
    primary = roots[0];
    primaryTypes.set(types, primary);
  }
  return primary;
}

function hashToken(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

function now(): string {
  return new Date().toISOString();
}

function prepareStatements(db: Db) {
  return {
    insertUser: db.prepare(
      `INSERT INTO users (id, role, cooperative_id, display_name, address, encrypted_key, key_version, custody, created_at, created_by)
       VALUES (@id, @role, @cooperative_id, @display_name, @address, @encrypted_key, @key_version, @custody, @created_at, @created_by)`,
    ),
    insertToken: db.prepare("INSERT INTO user_tokens (token_hash, user_id, created_at) VALUES (?, ?, ?)"),
    revokeTokens: db.prepare("UPDATE user_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"),
    tokenUser: db.prepare<[Buffer], User & { token_hash: Buffer }>(
      `SELECT t.token_hash, ${USER_COLUMNS.split(", ")
        .map((c) => `u.${c}`)
        .join(", ")}
       FROM user_tokens t JOIN users u ON u.id = t.user_id
       WHERE t.token_hash = ? AND t.revoked_at IS NULL`,
    ),
    byId: db.prepare<[string], User>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`),
    byAddress: db.prepare<[string], User>(`SELECT ${USER_COLUMNS} FROM users WHERE address = ?`),
    list: db.prepare<[{ role: string | null; coop: number | null }], User>(
      `SELECT ${USER_COLUMNS} FROM users
       WHERE (@role IS NULL OR role = @role) AND (@coop IS NULL OR cooperative_id = @coop)
       ORDER BY created_at, rowid`,
    ),
    key: db.prepare<[string], KeyRow>("SELECT address, encrypted_key, key_version, custody FROM users WHERE id = ?"),
    deleteTokens: db.prepare("DELETE FROM user_tokens WHERE user_id = ?"),
    deleteUser: db.prepare(
      "DELETE FROM users WHERE id = ? AND NOT EXISTS (SELECT 1 FROM users c WHERE c.created_by = ?)",
    ),
    toSelfCustody: db.prepare(
      "UPDATE users SET custody = 'self', encrypted_key = NULL WHERE id = ? AND custody = 'gateway'",
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

function checkInput(q: Statements, input: { role: Role; cooperativeId?: number; createdBy?: string }): void {
  if (!ROLES.includes(input.role)) throw new CustodyError("invalid_input", "role is not a known role");
  const id = input.cooperativeId;
  if (id !== undefined && (!Number.isSafeInteger(id) || id < 0)) {
    throw new CustodyError("invalid_input", "cooperativeId must be a non-negative integer");
  }
  // A cooperative admin is created before its cooperative exists on-chain (the registration
  // needs the admin's address), so the id is optional here even for cooperative roles.
  if (!COOPERATIVE_ROLES.includes(input.role) && id !== undefined) {
    throw new CustodyError("invalid_input", `a ${input.role} does not belong to a cooperative`);
  }
  if (input.createdBy !== undefined && !q.byId.get(input.createdBy)) {
    throw new CustodyError("invalid_input", "createdBy is not a known user");
  }
}

/** Use of the custodial keys: decrypted for one call, checked against the recorded address, zeroed after. */
interface KeyVault {
  /**
   * Decrypts the user's key and hands it to `use`; the buffer is zeroed when `use` returns, so
   * `use` must not keep it (nor anything holding it).
   */
  withSecret<T>(userId: string, use: (secret: Buffer, row: KeyRow) => T): T;
  /** The same, as a viem account (for the rare uses that need one: exporting, paying from the account). */
  withKey<T>(userId: string, use: (account: LocalAccount, privateKey: Hex, row: KeyRow) => T): T;
}

function createKeyVault(q: Statements, keystore: Keystore, log: Logger): KeyVault {
  // Key records already checked against their user's recorded address, by user id: deriving the
  // address from a key is an elliptic-curve multiplication, worth doing once per record, not per
  // signature. A record that changes (rotation, export, tampering) is checked again.
  const checkedRecords = new Map<string, Buffer>();
  const MAX_CHECKED_RECORDS = 10_000;

  function withSecret<T>(userId: string, use: (secret: Buffer, row: KeyRow) => T): T {
    const row = typeof userId === "string" ? q.key.get(userId) : undefined;
    if (!row) throw new CustodyError("unknown_user", "no such user");
    if (row.custody === "none") throw new CustodyError("no_key", "this user has no key");
    if (row.custody === "self" || !row.encrypted_key) {
      throw new CustodyError("self_custody", "this user holds its own key: the gateway no longer signs for it");
    }
    let secret: Buffer | undefined;
    try {
      try {
        secret = keystore.decrypt(userId, row.key_version, row.encrypted_key);
        if (secret.length !== 32) throw new Error("not a 32-byte key");
      } catch {
        // The cause (wrong master key, tampered or misplaced record) stays out of the message.
        log.error({ userId }, "custodial key record failed to decrypt");
        throw new CustodyError("key_unavailable", "the custodial key of this user cannot be used");
      }
      const checked = checkedRecords.get(userId);
      if (checked === undefined || !checked.equals(row.encrypted_key)) {
        let address: string | undefined;
        try {
          address = addressOf(secret);
        } catch {
          address = undefined; // not a valid secp256k1 key
        }
        if (address !== row.address) {
          log.error({ userId }, "custodial key does not match the recorded address");
          throw new CustodyError("key_unavailable", "the custodial key of this user cannot be used");
        }
        if (checkedRecords.size >= MAX_CHECKED_RECORDS) checkedRecords.delete(checkedRecords.keys().next().value!);
        checkedRecords.set(userId, Buffer.from(row.encrypted_key));
      }
      return use(secret, row);
    } finally {
      secret?.fill(0);
    }
  }

  return {
    withSecret,
    withKey(userId, use) {
      return withSecret(userId, (secret, row) => {
        const privateKey = bytesToHex(secret);
        return use(privateKeyToAccount(privateKey), privateKey, row);
      });
    },
  };
}

/** A new key for a user (none for an auditor): its address and its record encrypted under the user id. */
function newKeyRecord(
  keystore: Keystore,
  id: string,
  role: Role,
): { address: string | null; encryptedKey: Buffer | null } {
  if (role === "auditor") return { address: null, encryptedKey: null };
  // 32 bytes from the OS CSPRNG; addressOf refuses the (2^-128 likely) values that are not keys.
  const secret = randomBytes(32);
  try {
    return { address: addressOf(secret), encryptedKey: keystore.encrypt(id, CURRENT_KEY_VERSION, secret) };
  } finally {
    secret.fill(0);
  }
}

export function createUserStore(deps: { db: Db; keystore: Keystore; log: Logger }): UserStore {
  const { db, keystore } = deps;
  const log = deps.log.child({ module: "custody" });
  const q = prepareStatements(db);
  const { withSecret, withKey } = createKeyVault(q, keystore, log);

  function requireUser(id: string): User {
    const row = typeof id === "string" ? q.byId.get(id) : undefined;
    if (!row) throw new CustodyError("unknown_user", "no such user");
    return row;
  }

  return {
    create(input) {
      checkInput(q, input);
      const displayName = validateDisplayName(input.displayName);
      const id = randomUUID();
      const { address, encryptedKey } = newKeyRecord(keystore, id, input.role);
      const createdAt = now();
      const token = newToken();
      db.transaction(() => {
        q.insertUser.run({
          id,
          role: input.role,
          cooperative_id: input.cooperativeId ?? null,
          display_name: displayName,
          address,
          encrypted_key: encryptedKey,
          key_version: CURRENT_KEY_VERSION,
          custody: address ? "gateway" : "none",
          created_at: createdAt,
          created_by: input.createdBy ?? null,
        });
        q.insertToken.run(hashToken(token), id, createdAt);
      })();
      const user = requireUser(id);
      log.info(
        { userId: id, role: user.role, cooperativeId: user.cooperativeId, address, createdBy: user.createdBy },
        "user created",
      );
      return { user, token };
    },

    authenticate(token) {
      // Malformed tokens are refused before any lookup; the lookup is by hash, so its timing says
      // nothing useful about the tokens stored. The final comparison is constant-time anyway.
      if (typeof token !== "string" || !TOKEN_SHAPE.test(token)) return null;
      const hash = hashToken(token);
      const row = q.tokenUser.get(hash);
      if (!row) return null;
      const { token_hash: stored, ...user } = row;
      return timingSafeEqual(stored, hash) ? user : null;
    },

    get(id) {
      const row = typeof id === "string" ? q.byId.get(id) : undefined;
      return row;
    },

    findByAddress(address) {
      let checksummed: string;
      try {
        checksummed = toAddress(address);
      } catch {
        return undefined;
      }
      const row = q.byAddress.get(checksummed);
      return row;
    },

    list(filter = {}) {
      return q.list.all({ role: filter.role ?? null, coop: filter.cooperativeId ?? null });
    },

    revokeToken(userId) {
      requireUser(userId);
      const { changes } = q.revokeTokens.run(now(), userId);
      log.info({ userId, revoked: changes }, "tokens revoked");
    },

    rotateToken(userId) {
      requireUser(userId);
      const token = newToken();
      const at = now();
      db.transaction(() => {
        q.revokeTokens.run(at, userId);
        q.insertToken.run(hashToken(token), userId, at);
      })();
      log.info({ userId }, "token rotated");
      return token;
    },

    async signTypedData(userId, signer, domain, types, value) {
      const signature = await withSecret(userId, async (secret, row) => {
        if (typeof signer !== "string" || row.address?.toLowerCase() !== signer.toLowerCase()) {
          throw new CustodyError("wrong_signer", "this user's key does not belong to the requested signer");
        }
        // Addresses only, no ENS names to resolve (Wallet.signTypedData would refuse them too).
        // signDigest reads the key before it returns: withSecret zeroes it right after.
        return (await signDigest(secret, typedDataDigest(domain, types, value))).serialized;
      });
      log.debug({ userId, primaryType: Object.keys(types)[0] }, "typed data signed");
      return signature;
    },

    exportKey(userId, confirm) {
      if (confirm !== EXPORT_CONFIRMATION) {
        throw new CustodyError(
          "confirmation_required",
          `exporting a key requires the confirmation "${EXPORT_CONFIRMATION}"`,
        );
      }
      return withKey(userId, (account, privateKey) => {
        // Conditional update: if two exports race, only one of them gets the key.
        const { changes } = q.toSelfCustody.run(userId);
        if (changes !== 1) throw new CustodyError("self_custody", "this user holds its own key already");
        log.warn({ userId, address: account.address }, "custodial key exported: the user now holds its own key");
        return privateKey;
      });
    },

    async withAccount(userId, use) {
      const account = withKey(userId, (a) => a);
      return use(account);
    },

    remove(userId) {
      db.transaction(() => {
        q.deleteTokens.run(userId);
        q.deleteUser.run(userId, userId);
      })();
      log.info({ userId }, "user removed (its on-chain step was refused)");
    },
  };
}
