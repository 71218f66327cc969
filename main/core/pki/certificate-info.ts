import { X509Certificate } from 'node:crypto';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { identityFromSubjectAltName, type CertificateRole } from '../../../common/wire/certificate-identity.js';

/** What the GUI, the journal and enrollment show of a certificate. */
export interface CertificateDescription {
  /** As node:crypto prints it, e.g. `CN=n1`. */
  readonly subject: string;
  /** From the `urn:armory:<role>:<name>` URI SAN; null when there is none (or more than one). */
  readonly role: CertificateRole | null;
  readonly name: string | null;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex, as node:crypto prints it. */
  readonly fingerprintSha256: string;
  readonly issuer: string;
}

/** How a certificate stands against a CA at a given time; only 'valid' is trusted. */
export type CertificateStanding = 'valid' | 'not-yet-valid' | 'expired' | 'not-issued-by-ca' | 'unreadable';

function parse(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new ArmoryError('PKI_E_CERT_INVALID', `${what} is not a certificate: ${(e as Error).message}`, { what }, { cause: e });
  }
}

function validity(cert: X509Certificate): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

/** Describes a PEM certificate; a PEM that is not a certificate is PKI_E_CERT_INVALID. */
export function describeCertificate(pem: string): CertificateDescription {
  const cert = parse(pem, 'the PEM');
  const identity = identityFromSubjectAltName(cert.subjectAltName);
  return Object.freeze({
    subject: cert.subject,
    role: identity?.role ?? null,
    name: identity?.name ?? null,
    ...validity(cert),
    fingerprintSha256: cert.fingerprint256,
    issuer: cert.issuer,
  });
}

/**
 * How `certPem` stands against `caPem` at `at`: issued by it (names, key identifiers and key usage
 * match, and the signature verifies with the CA's public key), and both within their validity.
 * An unreadable `certPem` is 'unreadable'; an unreadable or non-CA `caPem` is PKI_E_CERT_INVALID.
 */
export function certificateStanding(certPem: string, caPem: string, at: Date = new Date()): CertificateStanding {
  const ca = parse(caPem, 'the CA certificate');
  if (!ca.ca) throw new ArmoryError('PKI_E_CERT_INVALID', `the CA certificate (${ca.subject}) is not a CA`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return 'unreadable';
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'not-issued-by-ca';
  const t = at.getTime();
  const windows = [validity(cert), validity(ca)];
  const times = windows.flatMap((w) => [w.notBefore.getTime(), w.notAfter.getTime()]);
  if (Number.isNaN(t) || times.some(Number.isNaN)) return 'unreadable';
  if (windows.some((w) => t < w.notBefore.getTime())) return 'not-yet-valid';
  if (windows.some((w) => t > w.notAfter.getTime())) return 'expired';
  return 'valid';
}

/** True when `certPem` was issued by `caPem` and both are valid at `at` (default: now). */
export function verifyIssuedBy(certPem: string, caPem: string, at: Date = new Date()): boolean {
  return certificateStanding(certPem, caPem, at) === 'valid';
}
