import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArmoryError } from '../../../../../common/errors/armory-error.js';
import { describeCertificate, verifyIssuedBy } from '../../../../../main/core/pki/certificate-info.js';
import { createClusterCa } from '../../../../../main/core/pki/cluster-ca.js';
import { issueCertificate } from '../../../../../main/core/pki/issue-certificate.js';
import { loadOrCreateClusterPki } from '../../../../../main/core/pki/cluster-pki.js';
import { loadSecretFile, plainKeyWrapper, saveSecretFile, type KeyWrapper } from '../../../../../main/core/pki/key-store.js';

const DAY = 86_400_000;
const PEM = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-pki-'));
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const modeOf = (p: string) => fs.statSync(p).mode & 0o777;

async function rejection(p: Promise<unknown>): Promise<ArmoryError> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => {
      if (!(e instanceof ArmoryError)) throw e;
      return e;
    },
  );
}

/** A stand-in for Electron safeStorage: XOR with a byte and a marker, so the file is not the PEM. */
const xorWrapper: KeyWrapper = Object.freeze({
  kind: 'xor-test',
  wrap: async (plain: Buffer) => Buffer.concat([Buffer.from('XOR1'), Buffer.from(plain.map((b) => b ^ 0x5a))]),
  unwrap: async (stored: Buffer) => {
    if (!stored.subarray(0, 4).equals(Buffer.from('XOR1'))) throw new Error('not wrapped by xor-test');
    return Buffer.from(stored.subarray(4).map((b) => b ^ 0x5a));
  },
});

describe('saveSecretFile / loadSecretFile', () => {
  it('writes an owner-only file in an owner-only folder it creates, and reads it back', async () => {
    const file = path.join(root, 'a', 'b', 'node.key');
    await saveSecretFile(file, PEM, plainKeyWrapper);
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(path.join(root, 'a'))).toBe(0o700);
    expect(modeOf(path.join(root, 'a', 'b'))).toBe(0o700);
    expect(fs.readFileSync(file, 'utf8')).toBe(PEM);
    expect(await loadSecretFile(file, plainKeyWrapper)).toBe(PEM);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['node.key']);
  });

  it('stores what the wrapper makes of the key and unwraps it on load', async () => {
    const file = path.join(root, 'k', 'node.key');
    await saveSecretFile(file, PEM, xorWrapper);
    expect(fs.readFileSync(file).subarray(0, 4).toString()).toBe('XOR1');
    expect(fs.readFileSync(file, 'utf8')).not.toContain('PRIVATE KEY');
    expect(await loadSecretFile(file, xorWrapper)).toBe(PEM);
  });

  it('replaces an existing file whole, and makes a looser one owner-only', async () => {
    const file = path.join(root, 'k', 'node.key');
    fs.mkdirSync(path.dirname(file), { mode: 0o700 });
    fs.writeFileSync(file, 'old', { mode: 0o644 });
    await saveSecretFile(file, PEM, plainKeyWrapper);
    expect(modeOf(file)).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toBe(PEM);
  });

  it('refuses to write into an existing folder open to other users, and leaves the folder alone', async () => {
    const dir = path.join(root, 'open');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o755);
    const e = await rejection(saveSecretFile(path.join(dir, 'node.key'), PEM, plainKeyWrapper));
    expect(e.code).toBe('PKI_E_UNSAFE_PERMISSIONS');
    expect(modeOf(dir)).toBe(0o755);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses a key file open to other users', async () => {
    const file = path.join(root, 'k', 'node.key');
    await saveSecretFile(file, PEM, plainKeyWrapper);
    fs.chmodSync(file, 0o640);
    expect((await rejection(loadSecretFile(file, plainKeyWrapper))).code).toBe('PKI_E_UNSAFE_PERMISSIONS');
  });

  it('gives PKI_E_KEY_MISSING for a missing file', async () => {
    const e = await rejection(loadSecretFile(path.join(root, 'none.key'), plainKeyWrapper));
    expect(e.code).toBe('PKI_E_KEY_MISSING');
    expect(e.context).toEqual({ file: path.join(root, 'none.key') });
  });

  it('gives PKI_E_KEY_WRAP when the wrapper cannot unwrap, or cannot wrap', async () => {
    const file = path.join(root, 'k', 'node.key');
    await saveSecretFile(file, PEM, plainKeyWrapper);
    expect((await rejection(loadSecretFile(file, xorWrapper))).code).toBe('PKI_E_KEY_WRAP');
    const broken: KeyWrapper = { kind: 'broken', wrap: () => Promise.reject(new Error('keychain locked')), unwrap: (b) => Promise.resolve(b) };
    const e = await rejection(saveSecretFile(path.join(root, 'k', 'other.key'), PEM, broken));
    expect(e.code).toBe('PKI_E_KEY_WRAP');
    expect(e.message).toContain('keychain locked');
    expect(fs.existsSync(path.join(root, 'k', 'other.key'))).toBe(false);
  });

  it('gives PKI_E_KEY_INVALID for a file that holds no PEM', async () => {
    const file = path.join(root, 'k', 'node.key');
    await saveSecretFile(file, 'garbage', plainKeyWrapper);
    expect((await rejection(loadSecretFile(file, plainKeyWrapper))).code).toBe('PKI_E_KEY_INVALID');
  });

  it('plainKeyWrapper gives back copies of what it got', async () => {
    const b = Buffer.from('x');
    const wrapped = await plainKeyWrapper.wrap(b);
    expect(wrapped.equals(b)).toBe(true);
    expect(wrapped).not.toBe(b);
    expect((await plainKeyWrapper.unwrap(wrapped)).toString()).toBe('x');
    expect(plainKeyWrapper.kind).toBe('plain');
    expect(Object.isFrozen(plainKeyWrapper)).toBe(true);
  });
});

describe('loadOrCreateClusterPki', () => {
  const FILES = ['ca.key', 'ca.pem', 'manager.key', 'manager.pem'];

  it('creates the CA and a manager certificate on first run: keys 0600, folder 0700', async () => {
    const dir = path.join(root, 'pki');
    const pki = await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' });
    expect(pki.created).toEqual({ ca: true, manager: true });
    expect(fs.readdirSync(dir).sort()).toEqual(FILES);
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(path.join(dir, 'ca.key'))).toBe(0o600);
    expect(modeOf(path.join(dir, 'manager.key'))).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8')).toBe(pki.ca.certPem);
    expect(fs.readFileSync(path.join(dir, 'manager.key'), 'utf8')).toBe(pki.manager.keyPem);
    expect(describeCertificate(pki.ca.certPem).subject).toBe('CN=Armory cluster CA lab');
    expect(describeCertificate(pki.manager.certPem)).toMatchObject({ role: 'manager', name: 'manager' });
    expect(verifyIssuedBy(pki.manager.certPem, pki.ca.certPem)).toBe(true);
  });

  it('loads the same CA and manager certificate on later runs', async () => {
    const dir = path.join(root, 'pki');
    const first = await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' });
    const second = await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' });
    expect(second.created).toEqual({ ca: false, manager: false });
    expect(describeCertificate(second.ca.certPem).fingerprintSha256).toBe(describeCertificate(first.ca.certPem).fingerprintSha256);
    expect(second.ca).toEqual(first.ca);
    expect(second.manager).toEqual(first.manager);
  });

  it('keeps the keys wrapped on disk with a wrapper, and needs the same wrapper to load them', async () => {
    const dir = path.join(root, 'pki');
    const first = await loadOrCreateClusterPki(dir, xorWrapper, { clusterName: 'lab' });
    expect(fs.readFileSync(path.join(dir, 'ca.key'), 'utf8')).not.toContain('PRIVATE KEY');
    expect((await loadOrCreateClusterPki(dir, xorWrapper, { clusterName: 'lab' })).ca).toEqual(first.ca);
    expect((await rejection(loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' }))).code).toBe('PKI_E_KEY_INVALID');
  });

  it('makes an existing looser folder owner-only', async () => {
    const dir = path.join(root, 'pki');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o755);
    await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' });
    expect(modeOf(dir)).toBe(0o700);
  });

  it('refuses when ca.key is missing but ca.pem exists, and makes no new CA', async () => {
    const dir = path.join(root, 'pki');
    const first = await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' });
    fs.rmSync(path.join(dir, 'ca.key'));
    const e = await rejection(loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' }));
    expect(e.code).toBe('PKI_E_KEY_MISSING');
    expect(e.message).toMatch(/orphan/);
    expect(fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8')).toBe(first.ca.certPem);
    expect(fs.existsSync(path.join(dir, 'ca.key'))).toBe(false);
  });

  it('refuses when ca.pem is missing but ca.key exists', async () => {
    const dir = path.join(root, 'pki');
    await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' });
    fs.rmSync(path.join(dir, 'ca.pem'));
    expect((await rejection(loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' }))).code).toBe('PKI_E_CERT_MISSING');
    expect(fs.existsSync(path.join(dir, 'ca.pem'))).toBe(false);
  });

  it('refuses to create a CA next to leftover manager files', async () => {
    const dir = path.join(root, 'pki');
    await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' });
    fs.rmSync(path.join(dir, 'ca.pem'));
    fs.rmSync(path.join(dir, 'ca.key'));
    expect((await rejection(loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' }))).code).toBe('PKI_E_CERT_MISSING');
    expect(fs.existsSync(path.join(dir, 'ca.pem'))).toBe(false);
  });

  it.each([
    ['a truncated ca.key', 'ca.key', (f: string) => fs.truncateSync(f, 40), 'PKI_E_KEY_INVALID'],
    ['garbage in ca.key', 'ca.key', (f: string) => fs.writeFileSync(f, 'garbage'), 'PKI_E_KEY_INVALID'],
    ['garbage in ca.pem', 'ca.pem', (f: string) => fs.writeFileSync(f, 'garbage'), 'PKI_E_CERT_INVALID'],
    ['a ca.key open to others', 'ca.key', (f: string) => fs.chmodSync(f, 0o644), 'PKI_E_UNSAFE_PERMISSIONS'],
    ['a missing manager.key', 'manager.key', (f: string) => fs.rmSync(f), 'PKI_E_KEY_MISSING'],
    ['a missing manager.pem', 'manager.pem', (f: string) => fs.rmSync(f), 'PKI_E_CERT_MISSING'],
    ['garbage in manager.pem', 'manager.pem', (f: string) => fs.writeFileSync(f, 'garbage'), 'PKI_E_CERT_INVALID'],
  ])('refuses %s with %s and rewrites nothing', async (_what, file, damage, code) => {
    const dir = path.join(root, 'pki');
    await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' });
    damage(path.join(dir, file));
    const before = Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
    expect((await rejection(loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' }))).code).toBe(code);
    expect(Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]))).toEqual(before);
  });

  it('refuses a CA key that belongs to another certificate', async () => {
    const dir = path.join(root, 'pki');
    await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' });
    await saveSecretFile(path.join(dir, 'ca.key'), (await createClusterCa({ clusterName: 'lab' })).keyPem, plainKeyWrapper);
    expect((await rejection(loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' }))).code).toBe('PKI_E_KEY_MISMATCH');
  });

  it('refuses a manager certificate from another CA, or one that is not a manager certificate', async () => {
    const dir = path.join(root, 'pki');
    const pki = await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' });
    const put = async (pair: { certPem: string; keyPem: string }) => {
      fs.writeFileSync(path.join(dir, 'manager.pem'), pair.certPem);
      await saveSecretFile(path.join(dir, 'manager.key'), pair.keyPem, plainKeyWrapper);
    };
    await put(await issueCertificate(await createClusterCa({ clusterName: 'lab' }), { role: 'manager', name: 'manager' }));
    expect((await rejection(loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' }))).code).toBe('PKI_E_CERT_INVALID');
    await put(await issueCertificate(pki.ca, { role: 'agent', name: 'manager' }));
    expect((await rejection(loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' }))).code).toBe('PKI_E_CERT_INVALID');
  });

  it('issues a manager certificate when both manager files are gone, under the same CA', async () => {
    const dir = path.join(root, 'pki');
    const first = await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' });
    fs.rmSync(path.join(dir, 'manager.pem'));
    fs.rmSync(path.join(dir, 'manager.key'));
    const second = await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' });
    expect(second.created).toEqual({ ca: false, manager: true });
    expect(second.ca).toEqual(first.ca);
    expect(second.manager.certPem).not.toBe(first.manager.certPem);
    expect(verifyIssuedBy(second.manager.certPem, first.ca.certPem)).toBe(true);
  });

  it('renews a manager certificate that is expired or about to expire', async () => {
    const dir = path.join(root, 'pki');
    const first = await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab' });
    const soon = new Date(describeCertificate(first.manager.certPem).notAfter.getTime() - 10 * DAY);
    const renewed = await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab', now: soon });
    expect(renewed.created).toEqual({ ca: false, manager: true });
    expect(renewed.ca).toEqual(first.ca);
    expect(verifyIssuedBy(renewed.manager.certPem, first.ca.certPem, soon)).toBe(true);
    expect(describeCertificate(renewed.manager.certPem).notAfter.getTime()).toBeGreaterThan(soon.getTime() + 800 * DAY);
    const again = await loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'lab', now: soon });
    expect(again.created).toEqual({ ca: false, manager: false });
    expect(again.manager).toEqual(renewed.manager);
  });

  it('refuses an invalid cluster name before touching the disk', async () => {
    const dir = path.join(root, 'pki');
    expect((await rejection(loadOrCreateClusterPki(dir, plainKeyWrapper, { clusterName: 'Bad Name' }))).code).toBe('PKI_E_NAME');
    expect(fs.existsSync(dir)).toBe(false);
  });
});
