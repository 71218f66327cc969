import { NAME_PATTERN } from '../config/names.js';

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

/**
 * The Armory identity among the subject alternative names node:crypto lists (`DNS:a, URI:b`). Node
 * prints a value holding a separator as a JSON string with the comma escaped, so a crafted URI
 * cannot pose as a second entry; a certificate with more than one identity URI is ambiguous and has
 * none.
 */
export function identityFromSubjectAltName(subjectAltName: string | undefined): CertificateIdentity | null {
  const found: CertificateIdentity[] = [];
  for (const entry of (subjectAltName ?? '').split(', ')) {
    if (!entry.startsWith('URI:')) continue;
    let uri = entry.slice('URI:'.length);
    if (uri.startsWith('"')) {
      try {
        uri = String(JSON.parse(uri));
      } catch {
        continue;
      }
    }
    const identity = parseIdentityUri(uri);
    if (identity) found.push(identity);
  }
  return found.length === 1 ? (found[0] ?? null) : null;
}
