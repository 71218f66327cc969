import { createHash } from 'node:crypto';
import { ArmoryError } from '../../../common/errors/armory-error.js';

/** How OpenSSH prints a host key's fingerprint: `SHA256:` + unpadded base64 of the SHA-256 of the key blob. */
export function hostKeyFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Accepts `SHA256:…` as ssh-keygen -l prints it (a trailing `=` is tolerated and dropped). */
export function normaliseFingerprint(value: string, what: string): string {
  const v = value.trim().replace(/=+$/, '');
  if (!FINGERPRINT.test(v)) {
    throw new ArmoryError('ENROLL_E_OPTIONS', `${what} must be a SHA256 host key fingerprint as ssh-keygen -l prints it (SHA256:…43 characters), not ${JSON.stringify(value)}`);
  }
  return v;
}

/** Who decides about a host key the manager sees for the first time. */
export interface HostKeyPolicy {
  /** The key pinned at an earlier enrollment: it must match, whatever else is given. */
  readonly pinned: string | null;
  /** A fingerprint the caller already trusts (e.g. `--trust`): it must match. */
  readonly trust: string | null;
  /** Asked on first contact when neither is given; true accepts the key. */
  readonly confirm: ((fingerprint: string) => Promise<boolean>) | null;
}

export type HostKeyDecision = { readonly accept: true; readonly how: 'pinned' | 'trusted' | 'confirmed' } | { readonly accept: false; readonly error: ArmoryError };

/**
 * The decision about the key a host presented. A pinned key that changed is refused loudly, with
 * both fingerprints: that is what a man in the middle looks like (or a reinstalled host, which the
 * user must resolve by removing the node first).
 */
export async function decideHostKey(fingerprint: string, policy: HostKeyPolicy, where: string): Promise<HostKeyDecision> {
  if (policy.pinned !== null) {
    if (fingerprint === policy.pinned) return { accept: true, how: 'pinned' };
    return {
      accept: false,
      error: new ArmoryError(
        'ENROLL_E_HOST_KEY_CHANGED',
        `the SSH host key of ${where} has CHANGED: pinned ${policy.pinned}, presented ${fingerprint}. Someone may be intercepting the connection, or the host was reinstalled; nothing was done on it`,
        { host: where, pinned: policy.pinned, presented: fingerprint },
      ),
    };
  }
  if (policy.trust !== null) {
    if (fingerprint === policy.trust) return { accept: true, how: 'trusted' };
    return {
      accept: false,
      error: new ArmoryError('ENROLL_E_HOST_KEY_REJECTED', `the SSH host key of ${where} is ${fingerprint}, not the trusted ${policy.trust}; nothing was done on it`, {
        host: where,
        trusted: policy.trust,
        presented: fingerprint,
      }),
    };
  }
  if (policy.confirm === null) {
    return {
      accept: false,
      error: new ArmoryError('ENROLL_E_HOST_KEY_REJECTED', `the SSH host key of ${where} (${fingerprint}) is new and nobody confirmed it; give the fingerprint to trust or confirm it`, {
        host: where,
        presented: fingerprint,
      }),
    };
  }
  let ok: boolean;
  try {
    ok = await policy.confirm(fingerprint);
  } catch (e) {
    return { accept: false, error: new ArmoryError('ENROLL_E_HOST_KEY_REJECTED', `confirming the host key of ${where} failed: ${(e as Error).message}`, { host: where }, { cause: e }) };
  }
  if (ok) return { accept: true, how: 'confirmed' };
  return { accept: false, error: new ArmoryError('ENROLL_E_HOST_KEY_REJECTED', `the SSH host key of ${where} (${fingerprint}) was not accepted; nothing was done on it`, { host: where, presented: fingerprint }) };
}
