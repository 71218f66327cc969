/** A certificate and its private key, both PEM: what node:tls takes as `cert` and `key`. */
export interface CertificateAndKey {
  readonly certPem: string;
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  readonly keyPem: string;
}
