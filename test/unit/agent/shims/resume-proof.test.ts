import { describe, expect, it } from 'vitest';
import { proofMatches, proofOf, type ProofFields } from '../../../../agent/shims/resume-proof.js';

describe('resume proofs on plain paths', () => {
  const base: ProofFields = { by: 'client', service: 'svc', shim: 0, session: '1'.repeat(32), serverNonce: '2'.repeat(64), clientNonce: '3'.repeat(64), received: 7 };
  const secret = '4'.repeat(64);

  it('match only with the secret and every field they bind', () => {
    const proof = proofOf(secret, base);
    expect(proofMatches(secret, base, proof)).toBe(true);
    expect(proofMatches('5'.repeat(64), base, proof)).toBe(false);
    const changed: Array<Partial<ProofFields>> = [{ by: 'server' }, { service: 'other' }, { shim: 1 }, { session: '6'.repeat(32) }, { serverNonce: '7'.repeat(64) }, { clientNonce: '8'.repeat(64) }, { received: 8 }];
    for (const c of changed) expect(proofMatches(secret, { ...base, ...c }, proof)).toBe(false);
    expect(proofMatches(secret, base, 'ab')).toBe(false);
  });
});
