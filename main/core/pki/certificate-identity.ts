import { NAME_PATTERN } from '../../../common/config/names.js';

/** The roles a cluster certificate can carry. */
export const CERTIFICATE_ROLES = ['agent', 'manager'] as const;
export type CertificateRole = (typeof CERTIFICATE_ROLES)[number];

/** Who a certificate belongs to, as its `urn:armory:<role>:<name>` URI SAN says. */
export interface CertificateIdentity {
  readonly role: CertificateRole;
  readonly name: string;
}

const IDENTITY_URI = /^urn:armory:([a-z]+):(.*)$/;

export function isCertificateRole(value: string): value is CertificateRole {
  return (CERTIFICATE_ROLES as readonly string[]).includes(value);
}

/** The URI SAN through which peers learn the role and name of a certificate's holder. */
export function identityUri(identity: CertificateIdentity): string {
  return `urn:armory:${identity.role}:${identity.name}`;
}

/** The identity in one URI, or null when it is not a well-formed Armory identity URI. */
export function parseIdentityUri(uri: string): CertificateIdentity | null {
  const m = IDENTITY_URI.exec(uri);
  if (!m) return null;
  const [, role = '', name = ''] = m;
  return isCertificateRole(role) && NAME_PATTERN.test(name) ? { role, name } : null;
}
