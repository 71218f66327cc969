import { X509Certificate, createPrivateKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArmoryError } from '../../../../../common/errors/armory-error.js';
import type { CertificateAndKey } from '../../../../../main/core/pki/certificate-and-key.js';
import { verifyIssuedBy } from '../../../../../main/core/pki/certificate-info.js';
import { createClusterCa } from '../../../../../main/core/pki/cluster-ca.js';
import { issueCertificate, type IssueCertificateOptions } from '../../../../../main/core/pki/issue-certificate.js';
import { x509 } from '../../../../../main/core/pki/x509-library.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const MINUTE = 60_000;
const DAY = 86_400_000;

let ca: CertificateAndKey;
let otherCa: CertificateAndKey;

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([createClusterCa({ clusterName: 'lab', now: NOW }), createClusterCa({ clusterName: 'lab', now: NOW })]);
});

async function rejectionCode(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => (e instanceof ArmoryError ? e.code : `not an ArmoryError: ${String(e)}`),
  );
}

const agent = (extra: Partial<IssueCertificateOptions> = {}): IssueCertificateOptions => ({ role: 'agent', name: 'node-1', now: NOW, ...extra });

describe('issueCertificate', () => {
  it('issues a certificate its CA verifies and another CA does not', async () => {
    const cert = await issueCertificate(ca, agent());
    expect(verifyIssuedBy(cert.certPem, ca.certPem, NOW)).toBe(true);
    expect(verifyIssuedBy(cert.certPem, otherCa.certPem, NOW)).toBe(false);
    const parsed = new X509Certificate(cert.certPem);
    expect(parsed.checkPrivateKey(createPrivateKey(cert.keyPem))).toBe(true);
    expect(parsed.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(parsed.ca).toBe(false);
    expect(parsed.subject).toBe('CN=node-1');
    expect(parsed.issuer).toBe('CN=Armory cluster CA lab');
  });

  it('puts the DNS names, the IP addresses and urn:armory:<role>:<name> in the SAN', async () => {
    const cert = await issueCertificate(ca, agent({ dnsNames: ['node-1.lab', 'localhost'], ipAddresses: ['198.18.0.1', '::1'] }));
    expect(new X509Certificate(cert.certPem).subjectAltName).toBe(
      'DNS:node-1.lab, DNS:localhost, IP Address:198.18.0.1, IP Address:0:0:0:0:0:0:0:1, URI:urn:armory:agent:node-1',
    );
    const manager = await issueCertificate(ca, { role: 'manager', name: 'manager', now: NOW });
    expect(new X509Certificate(manager.certPem).subjectAltName).toBe('URI:urn:armory:manager:manager');
  });

  it('is an end entity for TLS: CA:false, digitalSignature (critical), serverAuth + clientAuth, key identifiers', async () => {
    const cert = new x509.X509Certificate((await issueCertificate(ca, agent())).certPem);
    expect(cert.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: false });
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(ku?.critical).toBe(true);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    const caSki = new x509.X509Certificate(ca.certPem).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    expect(caSki).toBeTruthy();
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(caSki);
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)).not.toBeNull();
  });

  it('is valid from five minutes before now for 825 days by default, or for the days asked', async () => {
    const byDefault = new X509Certificate((await issueCertificate(ca, agent())).certPem);
    expect(new Date(byDefault.validFrom).getTime()).toBe(NOW.getTime() - 5 * MINUTE);
    expect(new Date(byDefault.validTo).getTime()).toBe(NOW.getTime() + 825 * DAY);
    const short = new X509Certificate((await issueCertificate(ca, agent({ days: 7 }))).certPem);
    expect(new Date(short.validTo).getTime()).toBe(NOW.getTime() + 7 * DAY);
  });

  it('gives each certificate its own key and serial', async () => {
    const [a, b] = await Promise.all([issueCertificate(ca, agent()), issueCertificate(ca, agent())]);
    expect(a?.keyPem).not.toBe(b?.keyPem);
    expect(new X509Certificate(a?.certPem ?? '').serialNumber).not.toBe(new X509Certificate(b?.certPem ?? '').serialNumber);
  });

  it('issues an expired certificate when told now is in the past, and verifyIssuedBy refuses it now', async () => {
    const past = new Date(Date.now() - 3 * DAY);
    const realCa = await createClusterCa({ clusterName: 'lab', now: new Date(Date.now() - 10 * DAY) });
    const expired = await issueCertificate(realCa, { role: 'agent', name: 'old', now: past, days: 1 });
    expect(verifyIssuedBy(expired.certPem, realCa.certPem)).toBe(false);
    expect(verifyIssuedBy(expired.certPem, realCa.certPem, new Date(past.getTime() + DAY / 2))).toBe(true);
  });

  it.each(['', 'Node-1', 'node 1', 'node,1', '_node', 'a'.repeat(64), 'x:y'])('refuses the name %j with PKI_E_NAME', async (name) => {
    expect(await rejectionCode(issueCertificate(ca, agent({ name })))).toBe('PKI_E_NAME');
  });

  it('refuses an unknown role with PKI_E_OPTIONS', async () => {
    expect(await rejectionCode(issueCertificate(ca, agent({ role: 'admin' as 'agent' })))).toBe('PKI_E_OPTIONS');
  });

  it.each([['-bad.lab'], ['bad_.lab'], ['a..b'], ['*.lab'], ['']])('refuses the DNS name %j with PKI_E_OPTIONS', async (dns) => {
    expect(await rejectionCode(issueCertificate(ca, agent({ dnsNames: [dns] })))).toBe('PKI_E_OPTIONS');
  });

  it.each([['256.1.1.1'], ['lab'], ['1.2.3'], ['']])('refuses the IP address %j with PKI_E_OPTIONS', async (ip) => {
    expect(await rejectionCode(issueCertificate(ca, agent({ ipAddresses: [ip] })))).toBe('PKI_E_OPTIONS');
  });

  it.each([0, -5, 2.5, 36_501])('refuses %s days with PKI_E_OPTIONS', async (days) => {
    expect(await rejectionCode(issueCertificate(ca, agent({ days })))).toBe('PKI_E_OPTIONS');
  });

  it('refuses a CA whose key is not its own (PKI_E_KEY_MISMATCH)', async () => {
    expect(await rejectionCode(issueCertificate({ certPem: ca.certPem, keyPem: otherCa.keyPem }, agent()))).toBe('PKI_E_KEY_MISMATCH');
  });

  it('refuses to issue from a certificate that is not a CA, or is not a certificate', async () => {
    const leaf = await issueCertificate(ca, agent());
    expect(await rejectionCode(issueCertificate(leaf, agent()))).toBe('PKI_E_CERT_INVALID');
    expect(await rejectionCode(issueCertificate({ certPem: 'garbage', keyPem: ca.keyPem }, agent()))).toBe('PKI_E_CERT_INVALID');
    expect(await rejectionCode(issueCertificate({ certPem: ca.certPem, keyPem: 'garbage' }, agent()))).toBe('PKI_E_KEY_INVALID');
  });
});
