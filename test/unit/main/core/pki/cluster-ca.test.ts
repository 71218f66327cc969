import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ArmoryError } from '../../../../../common/errors/armory-error.js';
import { verifyIssuedBy } from '../../../../../main/core/pki/certificate-info.js';
import { createClusterCa } from '../../../../../main/core/pki/cluster-ca.js';
import { x509 } from '../../../../../main/core/pki/x509-library.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const MINUTE = 60_000;
const DAY = 86_400_000;

async function rejectionCode(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => (e instanceof ArmoryError ? e.code : `not an ArmoryError: ${String(e)}`),
  );
}

describe('createClusterCa', () => {
  it('makes a self-signed ECDSA P-256 CA that verifies itself', async () => {
    const ca = await createClusterCa({ clusterName: 'lab', now: NOW });
    expect(verifyIssuedBy(ca.certPem, ca.certPem, NOW)).toBe(true);
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=Armory cluster CA lab');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    const key = createPrivateKey(ca.keyPem);
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(cert.checkPrivateKey(key)).toBe(true);
  });

  it('marks itself CA:true, pathLen 0 and keyCertSign + cRLSign, both critical', async () => {
    const cert = new x509.X509Certificate((await createClusterCa({ clusterName: 'lab', now: NOW })).certPem);
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    expect(bc).toMatchObject({ ca: true, pathLength: 0, critical: true });
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    expect(ku?.critical).toBe(true);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)).not.toBeNull();
    expect(cert.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
  });

  it('is valid from five minutes before now for 3650 days by default, or for the days asked', async () => {
    const byDefault = new X509Certificate((await createClusterCa({ clusterName: 'lab', now: NOW })).certPem);
    expect(new Date(byDefault.validFrom).getTime()).toBe(NOW.getTime() - 5 * MINUTE);
    expect(new Date(byDefault.validTo).getTime()).toBe(NOW.getTime() + 3650 * DAY);
    const short = new X509Certificate((await createClusterCa({ clusterName: 'lab', now: NOW, days: 30 })).certPem);
    expect(new Date(short.validTo).getTime()).toBe(NOW.getTime() + 30 * DAY);
  });

  it('defaults now to the clock', async () => {
    const before = Date.now();
    const cert = new X509Certificate((await createClusterCa({ clusterName: 'lab' })).certPem);
    const from = new Date(cert.validFrom).getTime() + 5 * MINUTE;
    expect(from).toBeGreaterThanOrEqual(before - 1000);
    expect(from).toBeLessThanOrEqual(Date.now());
  });

  it('gives every CA a random positive 16-byte serial and its own key', async () => {
    const cas = await Promise.all([1, 2, 3, 4].map(() => createClusterCa({ clusterName: 'lab', now: NOW })));
    const serials = cas.map((ca) => new X509Certificate(ca.certPem).serialNumber);
    for (const serial of serials) {
      expect(serial).toMatch(/^[0-9A-F]{32}$/);
      expect(parseInt(serial.slice(0, 2), 16)).toBeLessThan(0x80);
      expect(parseInt(serial.slice(0, 2), 16)).toBeGreaterThan(0);
    }
    expect(new Set(serials).size).toBe(4);
    expect(new Set(cas.map((ca) => ca.keyPem)).size).toBe(4);
  });

  it.each(['', 'Lab', 'two words', 'x,CN=evil', '-lab', 'a'.repeat(64)])('refuses the cluster name %j with PKI_E_NAME', async (clusterName) => {
    expect(await rejectionCode(createClusterCa({ clusterName, now: NOW }))).toBe('PKI_E_NAME');
  });

  it.each([0, -1, 1.5, Number.NaN, 36_501])('refuses %s days with PKI_E_OPTIONS', async (days) => {
    expect(await rejectionCode(createClusterCa({ clusterName: 'lab', now: NOW, days }))).toBe('PKI_E_OPTIONS');
  });

  it('refuses an invalid date as now', async () => {
    expect(await rejectionCode(createClusterCa({ clusterName: 'lab', now: new Date(Number.NaN) }))).toBe('PKI_E_OPTIONS');
  });
});
