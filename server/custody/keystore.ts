/**
 * Encryption of custodial keys at rest: AES-256-GCM under the master key, a random 96-bit nonce per
 * record, and the user id and key version as associated data, so that a blob copied onto another
 * user's record (or another version) fails to decrypt instead of signing for the wrong person.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION_TAG = 1; // format of the blob, not the user's key version

export interface Keystore {
  encrypt(userId: string, keyVersion: number, secret: Buffer): Buffer;
  decrypt(userId: string, keyVersion: number, blob: Buffer): Buffer;
}

export class KeystoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeystoreError";
  }
}

function associatedData(userId: string, keyVersion: number): Buffer {
  return Buffer.from(`cooptrace:key:v${VERSION_TAG}:${userId}:${keyVersion}`, "utf8");
}

export function createKeystore(masterKey: Buffer): Keystore {
  if (masterKey.length !== 32) throw new KeystoreError("the master key must be 32 bytes");
  const key = Buffer.from(masterKey); // private copy
  return {
    encrypt(userId, keyVersion, secret) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, nonce);
      cipher.setAAD(associatedData(userId, keyVersion));
      const body = Buffer.concat([cipher.update(secret), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION_TAG]), nonce, cipher.getAuthTag(), body]);
    },
    decrypt(userId, keyVersion, blob) {
      if (blob.length < 1 + 12 + 16 + 1 || blob[0] !== VERSION_TAG) throw new KeystoreError("unreadable key record");
      const nonce = blob.subarray(1, 13);
      const tag = blob.subarray(13, 29);
      const decipher = createDecipheriv("aes-256-gcm", key, nonce);
      decipher.setAAD(associatedData(userId, keyVersion));
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(blob.subarray(29)), decipher.final()]);
      } catch {
        // Never say more: the reason (wrong master key, wrong user, tampering) is not for callers.
        throw new KeystoreError("key record failed authentication");
      }
    },
  };
}
