/**
 * Encryption of custodial keys at rest: AES-256-GCM under the master key, a random 96-bit nonce per
 * record, and the user id and key version as associated data, so that a blob copied onto another
 * user's record (or another version) fails to decrypt instead of signing for the wrong person.
 *
 * Blob layout: format tag (1 byte) | nonce (12) | tag (16) | ciphertext.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from "node:crypto";

const VERSION_TAG = 1; // format of the blob, not the user's key version
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + NONCE_BYTES + TAG_BYTES;

export interface Keystore {
  encrypt(userId: string, keyVersion: number, secret: Buffer): Buffer;
  /** The caller owns the returned buffer and should zero it (`fill(0)`) once used. */
  decrypt(userId: string, keyVersion: number, blob: Buffer): Buffer;
}

export class KeystoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeystoreError";
  }
}

/**
 * Length-prefixed, so that no (userId, keyVersion) pair can encode to the same bytes as another one
 * whatever characters the id holds.
 */
function associatedData(userId: string, keyVersion: number): Buffer {
  if (userId.length === 0) throw new KeystoreError("the user id must not be empty");
  if (!Number.isSafeInteger(keyVersion) || keyVersion < 0) {
    throw new KeystoreError("the key version must be a non-negative integer");
  }
  const id = Buffer.from(userId, "utf8");
  const len = Buffer.alloc(4);
  len.writeUInt32BE(id.length);
  const version = Buffer.alloc(8);
  version.writeBigUInt64BE(BigInt(keyVersion));
  return Buffer.concat([Buffer.from(`cooptrace:key:v${VERSION_TAG}:`, "utf8"), len, id, version]);
}

export function createKeystore(masterKey: Buffer): Keystore {
  if (masterKey.length !== 32) throw new KeystoreError("the master key must be 32 bytes");
  // A KeyObject rather than a Buffer copy: it never prints or serialises its material if a
  // keystore ends up in a log or an error by mistake.
  const key: KeyObject = createSecretKey(Buffer.from(masterKey));
  return {
    encrypt(userId, keyVersion, secret) {
      if (secret.length === 0) throw new KeystoreError("nothing to encrypt");
      const aad = associatedData(userId, keyVersion);
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad);
      const body = Buffer.concat([cipher.update(secret), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION_TAG]), nonce, cipher.getAuthTag(), body]);
    },
    decrypt(userId, keyVersion, blob) {
      const aad = associatedData(userId, keyVersion);
      if (blob.length <= HEADER_BYTES || blob[0] !== VERSION_TAG) throw new KeystoreError("unreadable key record");
      const nonce = blob.subarray(1, 1 + NONCE_BYTES);
      const tag = blob.subarray(1 + NONCE_BYTES, HEADER_BYTES);
      // authTagLength pins the tag at 16 bytes: GCM would otherwise accept a truncated tag.
      const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      const head = decipher.update(blob.subarray(HEADER_BYTES));
      try {
        const tail = decipher.final();
        const out = Buffer.alloc(head.length + tail.length); // not pooled: the caller may zero it
        head.copy(out);
        tail.copy(out, head.length);
        tail.fill(0);
        return out;
      } catch {
        // Never say more: the reason (wrong master key, wrong user, tampering) is not for callers.
        throw new KeystoreError("key record failed authentication");
      } finally {
        head.fill(0); // unauthenticated plaintext or a copy of the secret: neither should linger
      }
    },
  };
}
