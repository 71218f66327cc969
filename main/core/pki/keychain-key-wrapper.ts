import { ArmoryError } from '../../../common/errors/armory-error.js';
import { KEYCHAIN_MAGIC, type KeyWrapper } from './key-store.js';

/** The OS keychain as the desktop app reaches it (Electron safeStorage), reduced to what wrapping needs. */
export interface OsKeychain {
  /** Whether keys can be encrypted with a secret held by the OS (not a fixed built-in password). */
  available(): boolean;
  encrypt(plain: string): Buffer;
  decrypt(sealed: Buffer): string;
  /** Names the keychain in messages, e.g. 'gnome_libsecret'. */
  readonly name: string;
}

/**
 * A KeyWrapper that seals private keys with the OS keychain: the file holds a magic line, then the
 * ciphertext. Keys written before (plain PEM, by the CLI or the console) are still read, and are
 * sealed the next time they are written. Where no keychain is available the keys stay plain
 * (owner-only files) rather than locking the user out; `sealing` tells which.
 */
export function keychainKeyWrapper(keychain: OsKeychain): KeyWrapper & { readonly sealing: boolean } {
  const sealing = keychain.available();
  return Object.freeze({
    kind: sealing ? `keychain (${keychain.name})` : 'plain (no OS keychain)',
    sealing,
    wrap: async (plain: Buffer) => (sealing ? Buffer.concat([KEYCHAIN_MAGIC, keychain.encrypt(plain.toString('utf8'))]) : Buffer.from(plain)),
    unwrap: async (stored: Buffer) => {
      if (!stored.subarray(0, KEYCHAIN_MAGIC.length).equals(KEYCHAIN_MAGIC)) return Buffer.from(stored);
      if (!keychain.available()) {
        throw new ArmoryError('DESKTOP_E_KEYCHAIN', `the key is sealed with the OS keychain, which is not available now (${keychain.name})`);
      }
      return Buffer.from(keychain.decrypt(stored.subarray(KEYCHAIN_MAGIC.length)), 'utf8');
    },
  });
}
