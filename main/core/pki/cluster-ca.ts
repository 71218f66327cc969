import type { CertificateAndKey } from './certificate-and-key.js';
import { checkName, randomSerialHex, validityWindow } from './certificate-fields.js';
import { ECDSA_P256, generateEcdsaKeyPair, nodeWebCrypto, privateKeyToPem } from './ecdsa-keys.js';
import { x509 } from './x509-library.js';

export interface ClusterCaOptions {
  /** Goes into the CA's common name: `Armory cluster CA <clusterName>`; follows NAME_PATTERN. */
  clusterName: string;
  /** The issuing time; the certificate is valid from five minutes before it. Default: the clock. */
  now?: Date;
  /** Validity in days. Default 3650. */
  days?: number;
}

export const CLUSTER_CA_DAYS = 3650;

/** The common name of a cluster's CA certificate. */
export function clusterCaCommonName(clusterName: string): string {
  return `Armory cluster CA ${clusterName}`;
}

/**
 * Creates the self-signed root of a cluster: ECDSA P-256, CA:true with path length 0 (it signs node
 * and manager certificates only, never another CA), key usage keyCertSign + cRLSign, both critical.
 */
export async function createClusterCa(options: ClusterCaOptions): Promise<CertificateAndKey> {
  const o = Object.freeze({
    clusterName: checkName(options.clusterName, 'cluster'),
    now: options.now ?? new Date(),
    days: options.days ?? CLUSTER_CA_DAYS,
  });
  const { notBefore, notAfter } = validityWindow(o.now, o.days);
  const keys = await generateEcdsaKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialHex(),
      name: [{ CN: [clusterCaCommonName(o.clusterName)] }],
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, nodeWebCrypto),
      ],
    },
    nodeWebCrypto,
  );
  return Object.freeze({ certPem: cert.toString('pem'), keyPem: await privateKeyToPem(keys.privateKey) });
}
