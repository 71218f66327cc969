import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import type { CertificateAndKey } from './certificate-and-key.js';
import { checkName, randomSerialHex, validityWindow } from './certificate-fields.js';
import { identityUri, isCertificateRole, type CertificateRole } from '../../../common/wire/certificate-identity.js';
import { ECDSA_P256, generateEcdsaKeyPair, importSigningKey, keyMatchesPublicKey, nodeWebCrypto, parsePrivateKey, privateKeyToPem } from './ecdsa-keys.js';
import { x509 } from './x509-library.js';

export interface IssueCertificateOptions {
  role: CertificateRole;
  /** The node (or manager) name: the common name and the `urn:armory:<role>:<name>` URI SAN. */
  name: string;
  /** DNS names the holder is reached at (SAN dNSName). */
  dnsNames?: readonly string[];
  /** IPv4/IPv6 addresses the holder is reached at (SAN iPAddress). */
  ipAddresses?: readonly string[];
  /** Validity in days. Default 825. */
  days?: number;
  /** The issuing time; the certificate is valid from five minutes before it. Default: the clock. */
  now?: Date;
}

export const ISSUED_CERTIFICATE_DAYS = 825;

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function checkDnsName(value: string): string {
  if (!DNS_NAME.test(value)) throw new ArmoryError('PKI_E_OPTIONS', `${JSON.stringify(value)} is not a DNS name`, { dnsName: value });
  return value.toLowerCase();
}

function checkIpAddress(value: string): string {
  if (isIP(value) === 0) throw new ArmoryError('PKI_E_OPTIONS', `${JSON.stringify(value)} is not an IP address`, { ipAddress: value });
  return value;
}

function parseCaCertificate(certPem: string): { node: NodeX509Certificate; peculiar: x509.X509Certificate } {
  let node: NodeX509Certificate;
  let peculiar: x509.X509Certificate;
  try {
    node = new NodeX509Certificate(certPem);
    peculiar = new x509.X509Certificate(certPem);
  } catch (e) {
    throw new ArmoryError('PKI_E_CERT_INVALID', `the CA certificate cannot be parsed: ${(e as Error).message}`, {}, { cause: e });
  }
  if (!node.ca) throw new ArmoryError('PKI_E_CERT_INVALID', `the issuing certificate (${node.subject}) is not a CA`);
  return { node, peculiar };
}

/**
 * Issues an agent or manager certificate from the cluster CA: a fresh ECDSA P-256 key, CN=name,
 * SAN = the DNS names and IP addresses given plus `urn:armory:<role>:<name>`, EKU serverAuth +
 * clientAuth (every connection is mutual TLS, each end is both), key usage digitalSignature.
 */
export async function issueCertificate(ca: CertificateAndKey, options: IssueCertificateOptions): Promise<CertificateAndKey> {
  if (!isCertificateRole(options.role)) {
    throw new ArmoryError('PKI_E_OPTIONS', `${JSON.stringify(options.role)} is not a certificate role (agent or manager)`, { role: options.role });
  }
  const o = Object.freeze({
    role: options.role,
    name: checkName(options.name, options.role),
    dnsNames: Object.freeze([...new Set((options.dnsNames ?? []).map(checkDnsName))]),
    ipAddresses: Object.freeze([...new Set((options.ipAddresses ?? []).map(checkIpAddress))]),
    days: options.days ?? ISSUED_CERTIFICATE_DAYS,
    now: options.now ?? new Date(),
  });
  const { notBefore, notAfter } = validityWindow(o.now, o.days);

  const caCert = parseCaCertificate(ca.certPem);
  if (!keyMatchesPublicKey(parsePrivateKey(ca.keyPem, 'the CA key'), caCert.node.publicKey)) {
    throw new ArmoryError('PKI_E_KEY_MISMATCH', `the CA key does not belong to the CA certificate (${caCert.node.subject})`);
  }
  const signingKey = await importSigningKey(ca.keyPem, 'the CA key');

  const keys = await generateEcdsaKeyPair();
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialHex(),
      subject: [{ CN: [o.name] }],
      issuer: caCert.peculiar.subjectName,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
        new x509.SubjectAlternativeNameExtension(
          [
            ...o.dnsNames.map((value) => ({ type: 'dns' as const, value })),
            ...o.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
            { type: 'url' as const, value: identityUri(o) },
          ],
          false,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, nodeWebCrypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert.peculiar.publicKey, false, nodeWebCrypto),
      ],
    },
    nodeWebCrypto,
  );
  return Object.freeze({ certPem: cert.toString('pem'), keyPem: await privateKeyToPem(keys.privateKey) });
}
