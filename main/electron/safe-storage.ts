import { safeStorage } from 'electron';
import { keychainKeyWrapper } from '../core/pki/keychain-key-wrapper.js';

/**
 * The cluster CA's and the manager's private keys sealed with the OS keychain through Electron
 * safeStorage (libsecret or KWallet on Linux). Chromium's fallback on a desktop without a keyring
 * ('basic_text', a fixed built-in password) is not a keychain: keys then stay plain in owner-only files.
 */
export function safeStorageKeyWrapper() {
  const backend = () => safeStorage.getSelectedStorageBackend();
  return keychainKeyWrapper({
    available: () => safeStorage.isEncryptionAvailable() && backend() !== 'basic_text' && backend() !== 'unknown',
    encrypt: (plain) => safeStorage.encryptString(plain),
    decrypt: (sealed) => safeStorage.decryptString(sealed),
    get name() {
      return backend();
    },
  });
}
