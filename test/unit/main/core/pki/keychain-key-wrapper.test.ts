import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateClusterPki } from '../../../../../main/core/pki/cluster-pki.js';
import { keychainKeyWrapper, type OsKeychain } from '../../../../../main/core/pki/keychain-key-wrapper.js';
import { KEYCHAIN_MAGIC, plainKeyWrapper } from '../../../../../main/core/pki/key-store.js';

/** A stand-in for safeStorage: reversible, and unlike the plain text (what matters here is the seam). */
function fakeKeychain(available = true): OsKeychain & { on: boolean } {
  const k = {
    on: available,
    name: 'test_keyring',
    available: () => k.on,
    encrypt: (plain: string) => Buffer.from(Buffer.from(plain, 'utf8').map((b) => b ^ 0x5a)),
    decrypt: (sealed: Buffer) => Buffer.from(sealed.map((b) => b ^ 0x5a)).toString('utf8'),
  };
  return k;
}

describe('keys sealed with the OS keychain (the desktop app)', () => {
  it('the cluster CA and manager keys are written sealed and read back; the CLI refuses them with a clear reason', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'armory-keychain-')), 'pki');
    const keychain = fakeKeychain();
    const wrapper = keychainKeyWrapper(keychain);
    expect(wrapper).toMatchObject({ sealing: true, kind: 'keychain (test_keyring)' });
    const first = await loadOrCreateClusterPki(dir, wrapper, { clusterName: 'ctest' });
    const keyFiles = fs.readdirSync(dir).filter((f) => f.endsWith('.key'));
    expect(keyFiles.length).toBeGreaterThanOrEqual(2);
    for (const f of keyFiles) {
      const raw = fs.readFileSync(path.join(dir, f));
      expect(raw.subarray(0, KEYCHAIN_MAGIC.length).equals(KEYCHAIN_MAGIC), f).toBe(true);
      expect(raw.toString('latin1')).not.toContain('PRIVATE KEY');
    }
    const again = await loadOrCreateClusterPki(dir, keychainKeyWrapper(keychain), { clusterName: 'ctest' });
    expect(again.ca.certPem).toBe(first.ca.certPem);
    expect(again.manager.keyPem).toBe(first.manager.keyPem);
    await expect(loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'ctest' })).rejects.toMatchObject({ code: 'PKI_E_KEY_WRAP', message: expect.stringMatching(/sealed with the OS keychain/) });
    keychain.on = false;
    await expect(loadOrCreateClusterPki(dir, keychainKeyWrapper(keychain), { clusterName: 'ctest' })).rejects.toMatchObject({ code: 'PKI_E_KEY_WRAP', message: expect.stringMatching(/not available now/) });
    fs.rmSync(path.dirname(dir), { recursive: true });
  });

  it('keys written plain before (CLI, console) are still read; without a keychain keys stay plain', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'armory-keychain-')), 'pki');
    const plain = await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'ctest' });
    const sealedReader = await loadOrCreateClusterPki(dir, keychainKeyWrapper(fakeKeychain()), { clusterName: 'ctest' });
    expect(sealedReader.manager.keyPem).toBe(plain.manager.keyPem);
    const none = keychainKeyWrapper(fakeKeychain(false));
    expect(none).toMatchObject({ sealing: false, kind: 'plain (no OS keychain)' });
    expect((await none.wrap(Buffer.from('-----BEGIN PRIVATE KEY-----'))).toString()).toBe('-----BEGIN PRIVATE KEY-----');
    fs.rmSync(path.dirname(dir), { recursive: true });
  });
});
