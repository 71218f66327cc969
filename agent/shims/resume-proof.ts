import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NONCE_BYTES } from '../../common/wire/shim-frame.js';

/** What a proof on a plain TCP path binds: who proves, to whom, for which session, which nonces, which count. */
export interface ProofFields {
  readonly by: 'client' | 'server';
  readonly service: string;
  readonly shim: number;
  readonly session: string;
  readonly serverNonce: string;
  readonly clientNonce: string;
  readonly received: number;
}

export function newNonce(): string {
  return randomBytes(NONCE_BYTES).toString('hex');
}

/**
 * HMAC-SHA256 with the session secret over everything the proof binds. Both nonces are fresh per
 * path, so a proof seen on the network is worth nothing on another path; the direction is in it,
 * so the server's answer cannot be reflected back as the client's proof.
 */
export function proofOf(secret: string, f: ProofFields): string {
  const text = ['armory-shim-proof/1', f.by, f.service, f.shim, f.session, f.serverNonce, f.clientNonce, f.received].join('\n');
  return createHmac('sha256', Buffer.from(secret, 'hex')).update(text).digest('hex');
}

/** Compares a presented proof with the expected one in constant time. */
export function proofMatches(secret: string, f: ProofFields, presented: string): boolean {
  const want = Buffer.from(proofOf(secret, f), 'hex');
  const got = Buffer.from(presented, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
