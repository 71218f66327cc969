import { identityFromSubjectAltName } from '../../common/wire/certificate-identity.js';
import type { X509Certificate } from 'node:crypto';

/** Who is on the other end of a connection, as its certificate says. */
export interface PeerIdentity {
  role: 'manager' | 'agent' | 'local';
  name: string;
}

/** The local control socket's caller: the node's own administrator (owner-only socket). */
export const LOCAL_CALLER: PeerIdentity = { role: 'local', name: 'local' };

/** Reads `urn:armory:<role>:<name>` from a certificate's subject alternative names. */
export function identityOf(cert: X509Certificate): PeerIdentity | null {
  const id = identityFromSubjectAltName(cert.subjectAltName);
  return id ? { role: id.role, name: id.name } : null;
}

/** True when `cert` was issued by `ca` and is valid at `now`. */
export function issuedBy(cert: X509Certificate, ca: X509Certificate, now = new Date()): boolean {
  return cert.checkIssued(ca) && cert.verify(ca.publicKey) && new Date(cert.validFrom) <= now && now <= new Date(cert.validTo);
}
