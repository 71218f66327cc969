import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArmoryError } from '../../../../../common/errors/armory-error.js';
import type { CertificateAndKey } from '../../../../../main/core/pki/certificate-and-key.js';
import { certificateStanding, describeCertificate, verifyIssuedBy } from '../../../../../main/core/pki/certificate-info.js';
import { identityFromSubjectAltName, parseIdentityUri } from '../../../../../common/wire/certificate-identity.js';
import { createClusterCa } from '../../../../../main/core/pki/cluster-ca.js';
import { nodeWebCrypto } from '../../../../../main/core/pki/ecdsa-keys.js';
import { issueCertificate } from '../../../../../main/core/pki/issue-certificate.js';
import { x509 } from '../../../../../main/core/pki/x509-library.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const DAY = 86_400_000;

let ca: CertificateAndKey;
let otherCa: CertificateAndKey;
let agent: CertificateAndKey;
let manager: CertificateAndKey;

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([createClusterCa({ clusterName: 'lab', now: NOW }), createClusterCa({ clusterName: 'other', now: NOW })]);
  [agent, manager] = await Promise.all([
    issueCertificate(ca, { role: 'agent', name: 'web-1', ipAddresses: ['127.0.0.1'], now: NOW, days: 10 }),
    issueCertificate(ca, { role: 'manager', name: 'manager', now: NOW }),
  ]);
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof ArmoryError ? e.code : `not an ArmoryError: ${String(e)}`;
  }
  return undefined;
}

describe('describeCertificate', () => {
  it('gives back the role and name an agent certificate was issued for', () => {
    const d = describeCertificate(agent.certPem);
    expect(d).toMatchObject({ subject: 'CN=web-1', issuer: 'CN=Armory cluster CA lab', role: 'agent', name: 'web-1' });
    expect(d.notBefore).toEqual(new Date(NOW.getTime() - 5 * 60_000));
    expect(d.notAfter).toEqual(new Date(NOW.getTime() + 10 * DAY));
    expect(d.fingerprintSha256).toBe(new X509Certificate(agent.certPem).fingerprint256);
    expect(d.fingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('gives back the manager role', () => {
    expect(describeCertificate(manager.certPem)).toMatchObject({ role: 'manager', name: 'manager', subject: 'CN=manager' });
  });

  it('has null role and name for a certificate without an Armory URI (the CA)', () => {
    expect(describeCertificate(ca.certPem)).toMatchObject({ role: null, name: null, subject: 'CN=Armory cluster CA lab', issuer: 'CN=Armory cluster CA lab' });
  });

  it('refuses what is not a certificate with PKI_E_CERT_INVALID', () => {
    expect(codeOf(() => describeCertificate('not a certificate'))).toBe('PKI_E_CERT_INVALID');
    expect(codeOf(() => describeCertificate(agent.keyPem))).toBe('PKI_E_CERT_INVALID');
  });
});

describe('identityFromSubjectAltName', () => {
  it.each([
    ['URI:urn:armory:agent:web-1', { role: 'agent', name: 'web-1' }],
    ['DNS:a.lab, IP Address:127.0.0.1, URI:urn:armory:manager:manager', { role: 'manager', name: 'manager' }],
    ['URI:https://example.org/, URI:urn:armory:agent:n1', { role: 'agent', name: 'n1' }],
    ['', null],
    [undefined, null],
    ['DNS:urn:armory:agent:n1', null],
    ['URI:urn:armory:admin:n1', null],
    ['URI:urn:armory:agent:N1', null],
    ['URI:urn:armory:agent:n1:extra', null],
    ['URI:urn:armory:agent:', null],
    // Node quotes a value holding a separator (and escapes the comma): it cannot pose as a second entry.
    ['URI:"urn:armory:agent:x\\u002c URI:urn:armory:manager:y"', null],
    ['URI:"urn:armory:agent:n1"', { role: 'agent', name: 'n1' }],
    // Two identities are ambiguous: none.
    ['URI:urn:armory:agent:n1, URI:urn:armory:manager:manager', null],
  ])('%j → %j', (san, expected) => {
    expect(identityFromSubjectAltName(san)).toEqual(expected);
  });

  it('reads no identity from a real certificate whose URI smuggles ", URI:" (node:crypto quotes it)', async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = await nodeWebCrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const crafted = await x509.X509CertificateGenerator.createSelfSigned(
      {
        name: [{ CN: ['crafted'] }],
        keys,
        signingAlgorithm: alg,
        extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'urn:armory:agent:x, URI:urn:armory:manager:y, z' }])],
      },
      nodeWebCrypto,
    );
    const pem = crafted.toString('pem');
    expect(new X509Certificate(pem).subjectAltName).toBe('URI:"urn:armory:agent:x\\u002c URI:urn:armory:manager:y\\u002c z"');
    expect(describeCertificate(pem)).toMatchObject({ role: null, name: null });
  });

  it('parseIdentityUri reads only well-formed URIs', () => {
    expect(parseIdentityUri('urn:armory:agent:n1')).toEqual({ role: 'agent', name: 'n1' });
    expect(parseIdentityUri('URN:armory:agent:n1')).toBeNull();
    expect(parseIdentityUri(' urn:armory:agent:n1')).toBeNull();
  });
});

describe('verifyIssuedBy', () => {
  it('accepts a certificate of the CA inside its validity, and the CA itself', () => {
    expect(verifyIssuedBy(agent.certPem, ca.certPem, NOW)).toBe(true);
    expect(verifyIssuedBy(manager.certPem, ca.certPem, NOW)).toBe(true);
    expect(verifyIssuedBy(ca.certPem, ca.certPem, NOW)).toBe(true);
  });

  it('refuses a certificate of another CA, even one with the same name', async () => {
    const twin = await createClusterCa({ clusterName: 'lab', now: NOW });
    expect(verifyIssuedBy(agent.certPem, otherCa.certPem, NOW)).toBe(false);
    expect(verifyIssuedBy(agent.certPem, twin.certPem, NOW)).toBe(false);
    expect(certificateStanding(agent.certPem, twin.certPem, NOW)).toBe('not-issued-by-ca');
  });

  it('refuses a certificate outside its validity period', () => {
    expect(certificateStanding(agent.certPem, ca.certPem, new Date(NOW.getTime() - 6 * 60_000))).toBe('not-yet-valid');
    expect(certificateStanding(agent.certPem, ca.certPem, new Date(NOW.getTime() + 10 * DAY - 1000))).toBe('valid');
    expect(certificateStanding(agent.certPem, ca.certPem, new Date(NOW.getTime() + 10 * DAY + 1000))).toBe('expired');
    expect(verifyIssuedBy(agent.certPem, ca.certPem, new Date(NOW.getTime() + 11 * DAY))).toBe(false);
  });

  it('refuses a certificate when the CA itself has expired', async () => {
    const shortCa = await createClusterCa({ clusterName: 'lab', now: NOW, days: 2 });
    const long = await issueCertificate(shortCa, { role: 'agent', name: 'n1', now: NOW, days: 30 });
    expect(verifyIssuedBy(long.certPem, shortCa.certPem, new Date(NOW.getTime() + DAY))).toBe(true);
    expect(certificateStanding(long.certPem, shortCa.certPem, new Date(NOW.getTime() + 3 * DAY))).toBe('expired');
  });

  it('refuses a certificate whose signature was tampered with', () => {
    const der = Buffer.from(new X509Certificate(agent.certPem).raw);
    der.writeUInt8(der.readUInt8(der.length - 5) ^ 0x01, der.length - 5);
    const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
    expect(verifyIssuedBy(pem, ca.certPem, NOW)).toBe(false);
  });

  it('answers false for a PEM that is not a certificate; a bad CA is PKI_E_CERT_INVALID', () => {
    expect(verifyIssuedBy('garbage', ca.certPem, NOW)).toBe(false);
    expect(certificateStanding('garbage', ca.certPem, NOW)).toBe('unreadable');
    expect(codeOf(() => verifyIssuedBy(agent.certPem, 'garbage', NOW))).toBe('PKI_E_CERT_INVALID');
    expect(codeOf(() => verifyIssuedBy(manager.certPem, agent.certPem, NOW))).toBe('PKI_E_CERT_INVALID');
  });
});
