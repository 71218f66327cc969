import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agentControl } from '../../../../common/wire/agent-control.js';
import { MIRROR_CHUNK_BYTES, mirrorApplyResultSchema, mirrorOpSchema, relPathSchema } from '../../../../common/wire/mirror-wire.js';

const component = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).filter((c) => c !== '.' && c !== '..');
const rel = fc.array(component, { minLength: 1, maxLength: 4 }).map((cs) => cs.join('/'));
const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const data = fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b).toString('base64'));
const size = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const appendOp = fc.record(
  {
    kind: fc.constant('append' as const),
    rel,
    offset: size,
    base: hex64,
    data,
    final: fc.record({ size, mode: fc.nat({ max: 0o7777 }), mtimeMs: fc.double({ noNaN: true, noDefaultInfinity: true }) }),
  },
  { requiredKeys: ['kind', 'rel', 'offset', 'base', 'data'] },
);

describe('mirror ops on the wire', () => {
  it('whatever arrives is either a well-formed op or refused, never a crash', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          appendOp.chain((op) => fc.record({ ...Object.fromEntries(Object.entries(op).map(([k, v]) => [k, fc.oneof(fc.constant(v), fc.jsonValue())])) })),
        ),
        (value) => {
          const r = mirrorOpSchema.safeParse(value);
          if (!r.success) return;
          expect(['put', 'append', 'remove', 'rename', 'mkdir', 'symlink']).toContain(r.data.kind);
          if ('rel' in r.data) expect(relPathSchema.safeParse(r.data.rel).success).toBe(true);
          if (r.data.kind === 'append') {
            expect(r.data.base).toMatch(/^[0-9a-f]{64}$/);
            expect((typeof r.data.data === 'string' ? Buffer.from(r.data.data, 'base64') : r.data.data).length).toBeLessThanOrEqual(MIRROR_CHUNK_BYTES);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a well-formed append is taken as it is, also inside mirror.apply', () => {
    fc.assert(
      fc.property(appendOp, (op) => {
        expect(mirrorOpSchema.parse(op)).toEqual(op);
        expect(agentControl['mirror.apply'].params.parse({ service: 'db', folder: '/var/lib/db', epoch: 3, op }).op).toEqual(op);
      }),
      { numRuns: 500 },
    );
  });

  it('an append that is too big, badly based, out of bounds, outside the folder or with extra fields is refused', () => {
    const ok = { kind: 'append', rel: 'appendonly.aof', offset: 10, base: 'a'.repeat(64), data: 'AAAA' };
    expect(mirrorOpSchema.safeParse(ok).success).toBe(true);
    for (const bad of [
      { ...ok, data: Buffer.alloc(MIRROR_CHUNK_BYTES + 3).toString('base64') },
      { ...ok, data: 'not base64!' },
      { ...ok, base: 'A'.repeat(64) },
      { ...ok, base: 'a'.repeat(63) },
      { ...ok, offset: -1 },
      { ...ok, offset: 1.5 },
      { ...ok, offset: 2 ** 60 },
      { ...ok, rel: '../etc/passwd' },
      { ...ok, rel: '/etc/passwd' },
      { ...ok, final: { size: 11, mode: 0o10000, mtimeMs: 0 } },
      { ...ok, final: { size: -1, mode: 0o644, mtimeMs: 0 } },
      { ...ok, final: { size: 11, mode: 0o644, mtimeMs: 0, sha256: 'x' } },
      { ...ok, extra: 1 },
    ]) {
      expect(mirrorOpSchema.safeParse(bad).success, JSON.stringify(bad).slice(0, 120)).toBe(false);
    }
  });

  it("a target's answer says how much it has, or that an append does not fit", () => {
    expect(mirrorApplyResultSchema.parse({ have: 13, mismatch: true })).toEqual({ have: 13, mismatch: true });
    expect(mirrorApplyResultSchema.safeParse({ have: -1 }).success).toBe(false);
    expect(mirrorApplyResultSchema.safeParse({ have: 1, other: 1 }).success).toBe(false);
  });
});
