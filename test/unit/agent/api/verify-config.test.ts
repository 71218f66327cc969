import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifySignedConfig } from '../../../../agent/api/verify-config.js';
import { ArmoryError } from '../../../../common/errors/armory-error.js';
import { signConfig } from '../../../../main/core/config-signing.js';
import { createClusterCa } from '../../../../main/core/pki/cluster-ca.js';
import { issueCertificate } from '../../../../main/core/pki/issue-certificate.js';

let caPem = '';
let manager: { certPem: string; keyPem: string };
beforeAll(async () => {
  const ca = await createClusterCa({ clusterName: 'unit' });
  caPem = ca.certPem;
  manager = await issueCertificate(ca, { role: 'manager', name: 'manager' });
});

const payload = (version: number, yaml = 'services: {}\n') => ({ version, issuedAt: '2026-11-23T00:00:00Z', cluster: 'unit', yaml });

describe('verifySignedConfig', () => {
  it('accepts a configuration signed by the manager, newer than the current one', () => {
    const v = verifySignedConfig(signConfig(payload(3), manager), caPem, 2);
    expect(v.payload.version).toBe(3);
    expect(v.config.services).toEqual({});
  });

  it('refuses the same or an older version (replay), unless asked to accept the same', () => {
    const env = signConfig(payload(3), manager);
    expect(() => verifySignedConfig(env, caPem, 3)).toThrow(expect.objectContaining({ code: 'AGENT_E_CONFIG_STALE' }));
    expect(() => verifySignedConfig(env, caPem, 4)).toThrow(expect.objectContaining({ code: 'AGENT_E_CONFIG_STALE' }));
    expect(verifySignedConfig(env, caPem, 3, { allowSame: true }).payload.version).toBe(3);
  });

  it('never throws anything but a coded ArmoryError, whatever arrives', () => {
    fc.assert(
      fc.property(fc.anything(), (raw) => {
        try {
          verifySignedConfig(raw, caPem, 0);
        } catch (e) {
          expect(e).toBeInstanceOf(ArmoryError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses any change to a signed envelope', () => {
    const env = signConfig(payload(5, 'services:\n  a:\n    command: /bin/true\n'), manager);
    fc.assert(
      fc.property(fc.nat({ max: env.payload.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }), (at, ch) => {
        fc.pre(env.payload[at] !== ch);
        const altered = { ...env, payload: env.payload.slice(0, at) + ch + env.payload.slice(at + 1) };
        expect(() => verifySignedConfig(altered, caPem, 0)).toThrow(ArmoryError);
      }),
      { numRuns: 200 },
    );
  });
});
