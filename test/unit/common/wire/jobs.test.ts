import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Bytes, JOB_TRANSFER_LIMIT, jobReplicaAnswerSchema, jobReplicaParamsSchema, jobRunSchema } from '../../../../common/wire/jobs.js';

const sha = 'a'.repeat(64);
const params = (over: Record<string, unknown> = {}) => ({ job: 'j', specSha256: sha, replica: 1, attempt: 1, ...over });

describe('job wire messages', () => {
  it('base64Bytes gives the decoded size without decoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(base64Bytes(Buffer.from(bytes).toString('base64'))).toBe(bytes.length);
      }),
    );
  });

  it('a replica request with inputs and stdin up to the transfer limit is accepted, one byte more is refused', () => {
    const half = Buffer.alloc(JOB_TRANSFER_LIMIT / 2, 1).toString('base64');
    expect(jobReplicaParamsSchema.safeParse(params({ stdin: half, inputs: [{ name: 'a', data: half }] })).success).toBe(true);
    const more = Buffer.alloc(JOB_TRANSFER_LIMIT / 2 + 1, 1).toString('base64');
    const r = jobReplicaParamsSchema.safeParse(params({ stdin: half, inputs: [{ name: 'a', data: more }] }));
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe(`inputs and stdin are ${JOB_TRANSFER_LIMIT + 1} bytes; at most ${JOB_TRANSFER_LIMIT} may be sent`);
  });

  it('refuses input names that would leave the working directory, and duplicates', () => {
    for (const name of ['../x', 'a/b', '.', '..', '', 'x\0y']) {
      expect(jobReplicaParamsSchema.safeParse(params({ inputs: [{ name, data: '' }] })).success, name).toBe(false);
    }
    expect(jobReplicaParamsSchema.safeParse(params({ inputs: [{ name: 'a', data: '' }, { name: 'a', data: '' }] })).success).toBe(false);
  });

  it('decoding anything never throws, and whatever passes is within its bounds', () => {
    const anyParams = fc.oneof(
      fc.anything(),
      fc.record({
        job: fc.oneof(fc.constant('j'), fc.string()),
        specSha256: fc.oneof(fc.constant(sha), fc.string()),
        replica: fc.oneof(fc.integer({ min: -2, max: 20 }), fc.anything()),
        attempt: fc.integer({ min: -2, max: 20 }),
        stdin: fc.oneof(fc.constant(undefined), fc.base64String(), fc.string()),
        inputs: fc.array(fc.record({ name: fc.string(), data: fc.oneof(fc.base64String(), fc.string()) }), { maxLength: 4 }),
      }),
    );
    fc.assert(
      fc.property(anyParams, (p) => {
        const r = jobReplicaParamsSchema.safeParse(p);
        if (!r.success) return;
        expect(r.data.replica).toBeGreaterThanOrEqual(1);
        expect(r.data.replica).toBeLessThanOrEqual(15);
        for (const i of r.data.inputs) expect(i.name).not.toMatch(/\//);
      }),
    );
    fc.assert(
      fc.property(fc.anything(), (a) => {
        expect(() => jobReplicaAnswerSchema.safeParse(a)).not.toThrow();
        expect(() => jobRunSchema.safeParse(a)).not.toThrow();
      }),
    );
  });

  it('a replica answer must carry a fingerprint-shaped hash and a known status', () => {
    const result = { replica: 1, status: 'exited', reason: 'exit code 0', exitCode: 0, signal: null, durationMs: 3, stdoutSha256: sha, stdoutBytes: 0, outputs: [], fingerprint: sha, stderrTail: '' };
    expect(jobReplicaAnswerSchema.safeParse({ result, stdout: '', stdoutTruncated: false, outputs: [] }).success).toBe(true);
    expect(jobReplicaAnswerSchema.safeParse({ result: { ...result, status: 'won' }, stdout: '', stdoutTruncated: false, outputs: [] }).success).toBe(false);
    expect(jobReplicaAnswerSchema.safeParse({ result: { ...result, fingerprint: 'short' }, stdout: '', stdoutTruncated: false, outputs: null }).success).toBe(false);
  });
});
