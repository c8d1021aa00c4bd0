/**
 * Custody: master key resolution, the keystore, users and tokens, custodial signing and
 * self-custody export. Real SQLite files in a temporary folder, the real keystore, pino writing
 * into memory; no mocks.
 */
import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { verifyTypedData, Wallet, ZeroAddress, type TypedDataDomain, type TypedDataField } from "ethers";
import { loadConfig, type Config } from "../../server/config";
import { createLogger, type Logger } from "../../server/log";
import { openDatabase, type Db } from "../../server/store/db";
import { createKeystore, KeystoreError, type Keystore } from "../../server/custody/keystore";
import { DEV_KEY_FILE, MasterKeyError, resolveMasterKey } from "../../server/custody/masterKey";
import {
  createUserStore,
  CustodyError,
  custodyMigrations,
  DISPLAY_NAME_MAX,
  EXPORT_CONFIRMATION,
  ROLES,
  type UserStore,
} from "../../server/custody/users";

const DOMAIN: TypedDataDomain = {
  name: "CoopTrace Forwarder",
  version: "1",
  chainId: 31337,
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};
const TYPES: Record<string, TypedDataField[]> = {
  ForwardRequest: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "gas", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint48" },
    { name: "data", type: "bytes" },
  ],
};
function request(from: string): Record<string, unknown> {
  return {
    from,
    to: DOMAIN.verifyingContract,
    value: 0n,
    gas: 200_000n,
    nonce: 0n,
    deadline: 2_000_000_000,
    data: "0x1234",
  };
}

/** A forward request from `from`, signed by the store as `userId`. */
function signRequest(store: UserStore, userId: string, from: string): Promise<string> {
  return store.signTypedData(userId, from, DOMAIN, TYPES, request(from));
}

const TOKEN_SHAPE = /^ct_[A-Za-z0-9_-]{43}$/;

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "cooptrace-custody-"));
  tempDirs.push(dir);
  return dir;
}

function memoryLogger(): { log: Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  return { log: createLogger("trace", stream), text: () => chunks.join("") };
}

function testConfig(dataDir: string, env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({ NODE_ENV: "test", DATA_DIR: dataDir, ...env });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  expect.fail("expected a rejection");
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  expect.fail("expected an exception");
}

function expectCustodyError(err: unknown, code: string): void {
  expect(err).to.be.instanceOf(CustodyError);
  expect((err as CustodyError).code).to.equal(code);
}

interface Fixture {
  dir: string;
  file: string;
  db: Db;
  keystore: Keystore;
  store: UserStore;
  logText: () => string;
}

function setup(masterKey: Buffer = randomBytes(32), dir = tempDir()): Fixture {
  const file = path.join(dir, "gateway.sqlite");
  const { log, text } = memoryLogger();
  const db = openDatabase(file, [custodyMigrations]);
  const keystore = createKeystore(masterKey);
  return { dir, file, db, keystore, store: createUserStore({ db, keystore, log }), logText: text };
}

/** The custodial private key as stored, decrypted the way the store does (test-only access). */
function storedPrivateKey(f: Fixture, userId: string): string {
  const row = f.db.prepare("SELECT encrypted_key, key_version FROM users WHERE id = ?").get(userId) as {
    encrypted_key: Buffer;
    key_version: number;
  };
  return "0x" + f.keystore.decrypt(userId, row.key_version, row.encrypted_key).toString("hex");
}

/** The bytes of the SQLite file and its WAL and shared-memory companions. */
function databaseBytes(file: string): Buffer {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const parts = readdirSync(dir)
    .filter((name) => name.startsWith(base))
    .map((name) => readFileSync(path.join(dir, name)));
  expect(parts.length).to.be.greaterThan(0);
  return Buffer.concat(parts);
}

function expectAbsent(haystack: Buffer, needles: (string | Buffer)[], where: string): void {
  for (const needle of needles) {
    const bytes = typeof needle === "string" ? Buffer.from(needle, "utf8") : needle;
    expect(haystack.includes(bytes), `a secret (${bytes.length} bytes) found in ${where}`).to.equal(false);
  }
}

/** Every form in which a private key could leak: hex with and without 0x, both cases, raw bytes. */
function keyForms(privateKey: string): (string | Buffer)[] {
  const hex = privateKey.replace(/^0x/, "");
  return [privateKey, hex, hex.toUpperCase(), `0x${hex.toUpperCase()}`, Buffer.from(hex, "hex")];
}

/** A token's string, its raw random bytes and their hex. */
function tokenForms(token: string): (string | Buffer)[] {
  const raw = Buffer.from(token.slice(3), "base64url");
  return [token, token.slice(3), raw, raw.toString("hex")];
}

after(function () {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("custody", function () {
  describe("resolveMasterKey", function () {
    it("decodes KEYSTORE_KEY, with or without 0x, and creates no file", function () {
      const dir = tempDir();
      const hex = randomBytes(32).toString("hex");
      const { log, text } = memoryLogger();
      expect(resolveMasterKey(testConfig(dir, { KEYSTORE_KEY: hex }), log).toString("hex")).to.equal(hex);
      expect(resolveMasterKey(testConfig(dir, { KEYSTORE_KEY: `0x${hex}` }), log).toString("hex")).to.equal(hex);
      expect(existsSync(path.join(dir, DEV_KEY_FILE))).to.equal(false);
      expect(text()).not.to.include(hex);
    });

    it("rejects a malformed key without echoing it", function () {
      const dir = tempDir();
      const config = { ...testConfig(dir), keystoreKey: "abcd1234" };
      const err = thrown(() => resolveMasterKey(config, memoryLogger().log));
      expect(err).to.be.instanceOf(MasterKeyError);
      expect((err as Error).message)
        .to.include("KEYSTORE_KEY")
        .and.not.include("abcd1234");
    });

    context("in development or test without KEYSTORE_KEY", function () {
      it("generates the key file once with mode 0600 and a warning naming the file, then reuses it", function () {
        const dir = path.join(tempDir(), "data"); // not created yet
        const file = path.join(dir, DEV_KEY_FILE);
        const first = memoryLogger();
        const key = resolveMasterKey(testConfig(dir), first.log);
        expect(key.length).to.equal(32);
        expect(statSync(file).mode & 0o777).to.equal(0o600);
        expect(readdirSync(dir)).to.deep.equal([DEV_KEY_FILE]); // no temporary file left behind
        const warning = first
          .text()
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as { level: number; file?: string; msg: string });
        expect(warning.some((entry) => entry.level === 40 && entry.file === file)).to.equal(true);
        expect(first.text()).not.to.include(key.toString("hex"));

        // A restart (development config, no KEYSTORE_KEY) finds the same key.
        const contents = readFileSync(file);
        const second = memoryLogger();
        expect(resolveMasterKey(loadConfig({ NODE_ENV: "development", DATA_DIR: dir }), second.log)).to.deep.equal(key);
        expect(readFileSync(file)).to.deep.equal(contents);
        expect(second.text()).to.include(file).and.not.include(key.toString("hex"));
      });

      it("tightens a key file readable by others to 0600, with a warning", function () {
        const dir = tempDir();
        const file = path.join(dir, DEV_KEY_FILE);
        const key = resolveMasterKey(testConfig(dir), memoryLogger().log);
        chmodSync(file, 0o644);
        const { log, text } = memoryLogger();
        expect(resolveMasterKey(testConfig(dir), log)).to.deep.equal(key);
        expect(statSync(file).mode & 0o777).to.equal(0o600);
        expect(text()).to.include("readable by others").and.include(file);
      });

      it("refuses an unreadable key file rather than replacing it", function () {
        const dir = tempDir();
        const file = path.join(dir, DEV_KEY_FILE);
        writeFileSync(file, "not a key\n", { mode: 0o600 });
        const err = thrown(() => resolveMasterKey(testConfig(dir), memoryLogger().log));
        expect(err).to.be.instanceOf(MasterKeyError);
        expect((err as Error).message).to.include(file);
        expect(readFileSync(file, "utf8")).to.equal("not a key\n");
      });
    });

    context("with NODE_ENV=production", function () {
      it("refuses to start without KEYSTORE_KEY, naming it, and writes no key file", function () {
        const dir = tempDir();
        const config: Config = { ...testConfig(dir), env: "production" };
        const err = thrown(() => resolveMasterKey(config, memoryLogger().log));
        expect(err).to.be.instanceOf(MasterKeyError);
        expect((err as Error).message).to.include("KEYSTORE_KEY");
        expect(existsSync(path.join(dir, DEV_KEY_FILE))).to.equal(false);
      });

      it("uses KEYSTORE_KEY when given", function () {
        const hex = randomBytes(32).toString("hex");
        const config: Config = { ...testConfig(tempDir(), { KEYSTORE_KEY: hex }), env: "production" };
        expect(resolveMasterKey(config, memoryLogger().log).toString("hex")).to.equal(hex);
      });
    });
  });

  describe("keystore", function () {
    const userId = "9b2f3c1e-0000-4000-8000-000000000001";
    const secret = randomBytes(32);
    const keystore = createKeystore(randomBytes(32));

    it("round-trips a secret, with a fresh nonce each time", function () {
      const a = keystore.encrypt(userId, 1, secret);
      const b = keystore.encrypt(userId, 1, secret);
      expect(a.equals(b)).to.equal(false);
      expect(a.includes(secret)).to.equal(false);
      expect(keystore.decrypt(userId, 1, a)).to.deep.equal(secret);
      expect(keystore.decrypt(userId, 1, b)).to.deep.equal(secret);
    });

    it("fails for another user or another key version", function () {
      const blob = keystore.encrypt(userId, 1, secret);
      expect(() => keystore.decrypt("9b2f3c1e-0000-4000-8000-000000000002", 1, blob)).to.throw(KeystoreError);
      expect(() => keystore.decrypt(userId, 2, blob)).to.throw(KeystoreError);
      expect(() => keystore.decrypt(userId, 0, blob)).to.throw(KeystoreError);
    });

    it("keeps (user id, version) pairs apart even when ids contain separators", function () {
      const blob = keystore.encrypt("a:1", 2, secret);
      expect(() => keystore.decrypt("a", 12, blob)).to.throw(KeystoreError);
      expect(() => keystore.decrypt("a:", 12, blob)).to.throw(KeystoreError);
    });

    it("fails when any byte of the record is altered, or the record is truncated", function () {
      const blob = keystore.encrypt(userId, 1, secret);
      for (let i = 0; i < blob.length; i++) {
        const tampered = Buffer.from(blob);
        tampered[i] ^= 0x01;
        expect(() => keystore.decrypt(userId, 1, tampered), `byte ${i}`).to.throw(KeystoreError);
      }
      expect(() => keystore.decrypt(userId, 1, blob.subarray(0, blob.length - 1))).to.throw(KeystoreError);
      expect(() => keystore.decrypt(userId, 1, blob.subarray(0, 29))).to.throw(KeystoreError);
      expect(() => keystore.decrypt(userId, 1, Buffer.alloc(0))).to.throw(KeystoreError);
    });

    it("fails under another master key, with a message that says nothing more", function () {
      const blob = keystore.encrypt(userId, 1, secret);
      const err = thrown(() => createKeystore(randomBytes(32)).decrypt(userId, 1, blob));
      expect(err).to.be.instanceOf(KeystoreError);
      expect((err as Error).message).to.equal("key record failed authentication");
    });

    it("rejects a master key that is not 32 bytes", function () {
      expect(() => createKeystore(randomBytes(16))).to.throw(KeystoreError);
    });
  });

  describe("user store", function () {
    let f: Fixture;
    beforeEach(function () {
      f = setup();
    });
    afterEach(function () {
      if (f.db.open) f.db.close();
    });

    describe("create", function () {
      it("creates a user with a fresh custodial key and returns a token once", function () {
        const { user, token } = f.store.create({ role: "member", displayName: "Fatima Ait Ali", cooperativeId: 1 });
        expect(token).to.match(TOKEN_SHAPE);
        expect(user).to.include({
          role: "member",
          cooperativeId: 1,
          displayName: "Fatima Ait Ali",
          custody: "gateway",
        });
        expect(user.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(user.address).to.match(/^0x[0-9a-fA-F]{40}$/);
        expect(user.createdBy).to.equal(null);
        expect(Date.parse(user.createdAt)).to.be.closeTo(Date.now(), 60_000);
        expect(f.store.get(user.id)).to.deep.equal(user);
        expect(f.store.findByAddress(user.address!.toLowerCase())).to.deep.equal(user);
        expect(f.store.findByAddress("not an address")).to.equal(undefined);
        expect(f.store.get("unknown")).to.equal(undefined);
        // The key is the user's own: it matches the address.
        expect(new Wallet(storedPrivateKey(f, user.id)).address).to.equal(user.address);
      });

      it("gives every user a distinct key and token", function () {
        const a = f.store.create({ role: "buyer", displayName: "Buyer A" });
        const b = f.store.create({ role: "buyer", displayName: "Buyer B" });
        expect(a.user.address).not.to.equal(b.user.address);
        expect(a.token).not.to.equal(b.token);
      });

      it("gives auditors no key", function () {
        const { user, token } = f.store.create({ role: "auditor", displayName: "Regional audit office" });
        expect(user).to.include({ address: null, custody: "none" });
        expect(f.store.authenticate(token)).to.deep.equal(user);
        const row = f.db.prepare("SELECT encrypted_key FROM users WHERE id = ?").get(user.id) as {
          encrypted_key: Buffer | null;
        };
        expect(row.encrypted_key).to.equal(null);
      });

      it("records who created the user", function () {
        const admin = f.store.create({ role: "platform_admin", displayName: "Platform" }).user;
        const registrar = f.store.create({ role: "registrar", displayName: "ODCO", createdBy: admin.id }).user;
        expect(registrar.createdBy).to.equal(admin.id);
        expectCustodyError(
          thrown(() => f.store.create({ role: "registrar", displayName: "X", createdBy: "nobody" })),
          "invalid_input",
        );
      });

      it("accepts a cooperative for cooperative admins and members only", function () {
        // The admin of a cooperative not yet registered on-chain has no cooperative id yet.
        expect(f.store.create({ role: "coop_admin", displayName: "A" }).user.cooperativeId).to.equal(null);
        expect(f.store.create({ role: "member", displayName: "M", cooperativeId: 0 }).user.cooperativeId).to.equal(0);
        const before = f.store.list();
        expectCustodyError(
          thrown(() => f.store.create({ role: "registrar", displayName: "R", cooperativeId: 1 })),
          "invalid_input",
        );
        expectCustodyError(
          thrown(() => f.store.create({ role: "member", displayName: "M", cooperativeId: 1.5 })),
          "invalid_input",
        );
        expectCustodyError(
          thrown(() => f.store.create({ role: "superuser" as never, displayName: "S" })),
          "invalid_input",
        );
        expect(f.store.list()).to.deep.equal(before);
      });

      it("lists users by role and cooperative", function () {
        const a = f.store.create({ role: "member", displayName: "A", cooperativeId: 1 }).user;
        const b = f.store.create({ role: "member", displayName: "B", cooperativeId: 2 }).user;
        const c = f.store.create({ role: "coop_admin", displayName: "C", cooperativeId: 1 }).user;
        const d = f.store.create({ role: "certifier", displayName: "D" }).user;
        expect(f.store.list()).to.deep.equal([a, b, c, d]);
        expect(f.store.list({ role: "member" })).to.deep.equal([a, b]);
        expect(f.store.list({ cooperativeId: 1 })).to.deep.equal([a, c]);
        expect(f.store.list({ role: "member", cooperativeId: 2 })).to.deep.equal([b]);
        expect(f.store.list({ role: "arbiter" })).to.deep.equal([]);
      });
    });

    describe("display names", function () {
      const accepted = [
        "تعاونية ورود قلعة مكونة", // Arabic, stored as is (right-to-left by its own letters)
        "ⵜⴰⵎⵙⵙⵓⵔⵜ ⵏ ⵡⴰⵍⵎⵓⴷ", // Tamazight in Tifinagh
        "Coopérative Aït Bouguemez 🌹",
        " leading and trailing spaces kept ",
        "a\u200Fb", // a right-to-left mark is ordinary in mixed Arabic/Latin text
        "é".repeat(DISPLAY_NAME_MAX), // 200 characters
        "🌹".repeat(DISPLAY_NAME_MAX), // 200 characters, 400 UTF-16 units
      ];
      for (const name of accepted) {
        it(`stores ${JSON.stringify(name.slice(0, 24))} exactly`, function () {
          const { user } = f.store.create({ role: "buyer", displayName: name });
          expect(user.displayName).to.equal(name);
          expect(f.store.get(user.id)!.displayName).to.equal(name);
        });
      }

      const rejected: [string, string][] = [
        ["empty", ""],
        ["blank", "   "],
        ["too long", "a".repeat(DISPLAY_NAME_MAX + 1)],
        ["NUL", "a\u0000b"],
        ["newline", "a\nb"],
        ["tab", "a\tb"],
        ["DEL", "a\u007Fb"],
        ["C1 control", "a\u0085b"],
        ["LRE", "a\u202Ab"],
        ["RLO", "invoice\u202Etxt.exe"],
        ["PDF", "a\u202Cb"],
        ["LRI", "a\u2066b"],
        ["PDI", "a\u2069b"],
        ["lone surrogate", "a\uD800b"],
      ];
      for (const [label, name] of rejected) {
        it(`rejects a name with ${label} as invalid_text`, function () {
          expectCustodyError(
            thrown(() => f.store.create({ role: "buyer", displayName: name })),
            "invalid_text",
          );
          expect(f.store.list()).to.deep.equal([]);
        });
      }
    });

    describe("tokens", function () {
      it("authenticates a valid token and nothing else", function () {
        const { user, token } = f.store.create({ role: "registrar", displayName: "ODCO Errachidia" });
        expect(f.store.authenticate(token)).to.deep.equal(user);
        expect(f.store.authenticate(`ct_${randomBytes(32).toString("base64url")}`)).to.equal(null);
        expect(f.store.authenticate(token.slice(0, -1))).to.equal(null);
        expect(f.store.authenticate(token + "A")).to.equal(null);
        expect(f.store.authenticate(token.slice(3))).to.equal(null);
        expect(f.store.authenticate("")).to.equal(null);
      });

      it("stores only the SHA-256 of a token", function () {
        const { user, token } = f.store.create({ role: "buyer", displayName: "B" });
        const rows = f.db.prepare("SELECT token_hash FROM user_tokens WHERE user_id = ?").all(user.id) as {
          token_hash: Buffer;
        }[];
        expect(rows.map((r) => r.token_hash.toString("hex"))).to.deep.equal([
          createHash("sha256").update(token).digest("hex"),
        ]);
      });

      it("revokes every token of a user, and only that user's", function () {
        const a = f.store.create({ role: "member", displayName: "A", cooperativeId: 1 });
        const b = f.store.create({ role: "member", displayName: "B", cooperativeId: 1 });
        const second = f.store.rotateToken(a.user.id);
        f.store.revokeToken(a.user.id);
        expect(f.store.authenticate(a.token)).to.equal(null);
        expect(f.store.authenticate(second)).to.equal(null);
        expect(f.store.authenticate(b.token)).to.deep.equal(b.user);
        expect(f.store.get(a.user.id)).to.deep.equal(a.user); // the user remains
      });

      it("rotates: the old token stops working, the new one works", function () {
        const { user, token } = f.store.create({ role: "coop_admin", displayName: "Admin", cooperativeId: 3 });
        const next = f.store.rotateToken(user.id);
        expect(next).to.match(TOKEN_SHAPE).and.not.equal(token);
        expect(f.store.authenticate(token)).to.equal(null);
        expect(f.store.authenticate(next)).to.deep.equal(user);
        f.store.revokeToken(user.id);
        const after = f.store.rotateToken(user.id); // a revoked user can be given a token again
        expect(f.store.authenticate(after)).to.deep.equal(user);
      });

      it("answers unknown_user for unknown ids", function () {
        expectCustodyError(
          thrown(() => f.store.revokeToken("nobody")),
          "unknown_user",
        );
        expectCustodyError(
          thrown(() => f.store.rotateToken("nobody")),
          "unknown_user",
        );
      });
    });

    describe("signTypedData", function () {
      it("signs EIP-712 data that recovers to the user's address", async function () {
        const { user } = f.store.create({ role: "member", displayName: "Member", cooperativeId: 1 });
        const value = request(user.address!);
        const signature = await f.store.signTypedData(user.id, user.address!, DOMAIN, TYPES, value);
        expect(signature).to.match(/^0x[0-9a-f]{130}$/);
        expect(verifyTypedData(DOMAIN, TYPES, value, signature)).to.equal(user.address);
      });

      it("refuses for auditors (no_key) and unknown users (unknown_user)", async function () {
        const { user } = f.store.create({ role: "auditor", displayName: "Auditor" });
        expectCustodyError(await rejection(signRequest(f.store, user.id, DOMAIN.verifyingContract!)), "no_key");
        expectCustodyError(
          await rejection(f.store.signTypedData("nobody", ZeroAddress, DOMAIN, TYPES, {})),
          "unknown_user",
        );
      });

      it("refuses a key record copied from another user's row", async function () {
        const a = f.store.create({ role: "member", displayName: "A", cooperativeId: 1 }).user;
        const b = f.store.create({ role: "member", displayName: "B", cooperativeId: 1 }).user;
        f.db
          .prepare("UPDATE users SET encrypted_key = (SELECT encrypted_key FROM users WHERE id = ?) WHERE id = ?")
          .run(a.id, b.id);
        const err = await rejection(signRequest(f.store, b.id, b.address!));
        expectCustodyError(err, "key_unavailable");
        // And the copy with the address too: the associated data still names user A.
        f.db.prepare("UPDATE users SET address = NULL, custody = 'none', encrypted_key = NULL WHERE id = ?").run(a.id);
        f.db.prepare("UPDATE users SET address = ? WHERE id = ?").run(a.address, b.id);
        expectCustodyError(await rejection(signRequest(f.store, b.id, a.address!)), "key_unavailable");
      });

      it("refuses to sign as another address than the user's (wrong_signer)", async function () {
        const a = f.store.create({ role: "member", displayName: "A", cooperativeId: 1 }).user;
        const b = f.store.create({ role: "member", displayName: "B", cooperativeId: 1 }).user;
        expectCustodyError(await rejection(signRequest(f.store, a.id, b.address!)), "wrong_signer");
        // Case does not matter; the address does.
        const value = request(a.address!);
        const signature = await f.store.signTypedData(a.id, a.address!.toLowerCase(), DOMAIN, TYPES, value);
        expect(verifyTypedData(DOMAIN, TYPES, value, signature)).to.equal(a.address);
      });

      it("checks a replaced key record against the address again, even after signing with the old one", async function () {
        const { user } = f.store.create({ role: "member", displayName: "M", cooperativeId: 1 });
        await signRequest(f.store, user.id, user.address!);
        // A record that decrypts fine for this user (right associated data) but holds another key.
        const other = Wallet.createRandom();
        const blob = f.keystore.encrypt(user.id, 1, Buffer.from(other.privateKey.slice(2), "hex"));
        f.db.prepare("UPDATE users SET encrypted_key = ?, key_version = 1 WHERE id = ?").run(blob, user.id);
        expectCustodyError(await rejection(signRequest(f.store, user.id, user.address!)), "key_unavailable");
        expect(f.logText()).to.include("does not match the recorded address");
      });

      it("refuses a key record moved to another key version", async function () {
        const { user } = f.store.create({ role: "certifier", displayName: "Bureau Veritas" });
        f.db.prepare("UPDATE users SET key_version = key_version + 1 WHERE id = ?").run(user.id);
        expectCustodyError(await rejection(signRequest(f.store, user.id, user.address!)), "key_unavailable");
      });

      it("refuses a tampered key record", async function () {
        const { user } = f.store.create({ role: "arbiter", displayName: "Arbiter" });
        const row = f.db.prepare("SELECT encrypted_key FROM users WHERE id = ?").get(user.id) as {
          encrypted_key: Buffer;
        };
        const tampered = Buffer.from(row.encrypted_key);
        tampered[tampered.length - 1] ^= 0xff;
        f.db.prepare("UPDATE users SET encrypted_key = ? WHERE id = ?").run(tampered, user.id);
        expectCustodyError(await rejection(signRequest(f.store, user.id, user.address!)), "key_unavailable");
      });

      it("refuses under a wrong master key, and works again with the right one after a restart", async function () {
        const masterKey = randomBytes(32);
        const dir = tempDir();
        const first = setup(masterKey, dir);
        const { user, token } = first.store.create({ role: "member", displayName: "M", cooperativeId: 1 });
        first.db.close();

        const wrong = setup(randomBytes(32), dir);
        const err = await rejection(signRequest(wrong.store, user.id, user.address!));
        expectCustodyError(err, "key_unavailable");
        expect(wrong.logText()).to.include("failed to decrypt");
        wrong.db.close();

        const again = setup(masterKey, dir);
        expect(again.store.authenticate(token)).to.deep.equal(user);
        const value = request(user.address!);
        const signature = await again.store.signTypedData(user.id, user.address!, DOMAIN, TYPES, value);
        expect(verifyTypedData(DOMAIN, TYPES, value, signature)).to.equal(user.address);
        again.db.close();
      });
    });

    describe("exportKey", function () {
      it("requires the exact confirmation and changes nothing without it", async function () {
        const { user } = f.store.create({ role: "member", displayName: "M", cooperativeId: 1 });
        const err = thrown(() => f.store.exportKey(user.id, "yes"));
        expectCustodyError(err, "confirmation_required");
        expect((err as Error).message).to.include(EXPORT_CONFIRMATION);
        expect(f.store.get(user.id)!.custody).to.equal("gateway");
        await signRequest(f.store, user.id, user.address!);
      });

      it("returns the key once, then the gateway forgets it and refuses to sign", async function () {
        const { user, token } = f.store.create({ role: "member", displayName: "M", cooperativeId: 1 });
        const privateKey = f.store.exportKey(user.id, EXPORT_CONFIRMATION);
        expect(privateKey).to.match(/^0x[0-9a-f]{64}$/);
        const own = new Wallet(privateKey);
        expect(own.address).to.equal(user.address);
        expect(f.store.get(user.id)).to.deep.equal({ ...user, custody: "self" });
        expect(f.store.authenticate(token)).to.deep.equal({ ...user, custody: "self" });
        expect(f.store.findByAddress(user.address!)!.id).to.equal(user.id);

        const row = f.db.prepare("SELECT encrypted_key FROM users WHERE id = ?").get(user.id) as {
          encrypted_key: Buffer | null;
        };
        expect(row.encrypted_key).to.equal(null);
        expectCustodyError(await rejection(signRequest(f.store, user.id, user.address!)), "self_custody");
        expectCustodyError(
          thrown(() => f.store.exportKey(user.id, EXPORT_CONFIRMATION)),
          "self_custody",
        );

        // The member now signs for itself, and its signature is the same as the gateway's would have been.
        const value = request(user.address!);
        expect(verifyTypedData(DOMAIN, TYPES, value, await own.signTypedData(DOMAIN, TYPES, value))).to.equal(
          user.address,
        );
      });

      it("has nothing to export for auditors or unknown users", function () {
        const { user } = f.store.create({ role: "auditor", displayName: "A" });
        expectCustodyError(
          thrown(() => f.store.exportKey(user.id, EXPORT_CONFIRMATION)),
          "no_key",
        );
        expectCustodyError(
          thrown(() => f.store.exportKey("nobody", EXPORT_CONFIRMATION)),
          "unknown_user",
        );
      });
    });

    describe("secrets at rest and in logs", function () {
      it("keeps every key and token out of the database files, the logs and the errors", async function () {
        const tokens: string[] = [];
        const privateKeys: string[] = [];
        const errors: string[] = [];
        const collect = (err: unknown) => errors.push(String(err), JSON.stringify(err), (err as Error).stack ?? "");

        const admin = f.store.create({ role: "platform_admin", displayName: "Platform" });
        tokens.push(admin.token);
        const users = ROLES.map((role, i) =>
          f.store.create({
            role,
            displayName: `User ${i}`,
            cooperativeId: role === "member" || role === "coop_admin" ? 7 : undefined,
            createdBy: admin.user.id,
          }),
        );
        for (const { user, token } of users) {
          tokens.push(token);
          expect(f.store.authenticate(token)).to.deep.equal(user);
          if (user.custody === "gateway") {
            privateKeys.push(storedPrivateKey(f, user.id));
            const value = request(user.address!);
            const signature = await f.store.signTypedData(user.id, user.address!, DOMAIN, TYPES, value);
            expect(verifyTypedData(DOMAIN, TYPES, value, signature)).to.equal(user.address);
          } else {
            collect(await rejection(signRequest(f.store, user.id, DOMAIN.verifyingContract!)));
          }
        }
        expect(privateKeys).to.have.length(ROLES.length - 1); // every role but auditor
        privateKeys.push(storedPrivateKey(f, admin.user.id));
        for (const { user } of users.slice(0, 3)) tokens.push(f.store.rotateToken(user.id));
        f.store.revokeToken(users[3].user.id);
        const member = users.find((u) => u.user.role === "member")!.user;
        const exported = f.store.exportKey(member.id, EXPORT_CONFIRMATION);
        expect(privateKeys).to.include(exported);
        collect(await rejection(signRequest(f.store, member.id, member.address!)));
        collect(thrown(() => f.store.exportKey(member.id, "no")));
        collect(thrown(() => f.store.create({ role: "buyer", displayName: "\u202Eevil" })));

        const secrets = [...tokens.flatMap(tokenForms), ...privateKeys.flatMap(keyForms)];

        // Positive control: what is stored in place of a token (its hash) is found by the same search.
        const storedHash = createHash("sha256").update(tokens[0]).digest();

        // While open: the main file, the WAL and the shared-memory index.
        expect(databaseBytes(f.file).includes(storedHash)).to.equal(true);
        expectAbsent(databaseBytes(f.file), secrets, "the database files (open, WAL)");
        const logs = f.logText();
        expect(logs).to.include("user created").and.include("custodial key exported").and.include("token rotated");
        expectAbsent(Buffer.from(logs), secrets, "the logs");
        expectAbsent(Buffer.from(errors.join("\n")), secrets, "the error messages");

        // After a checkpoint on close, everything is in the main file.
        f.db.close();
        expect(databaseBytes(f.file).includes(storedHash)).to.equal(true);
        expectAbsent(databaseBytes(f.file), secrets, "the database file (closed)");
      });
    });
  });
});
