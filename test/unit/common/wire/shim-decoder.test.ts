import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArmoryError } from '../../../../common/errors/armory-error.js';
import { ShimDecoder } from '../../../../common/wire/shim-decoder.js';
import { encodeFrame, type ShimFrame } from '../../../../common/wire/shim-frame.js';

const MAX_DATA = 2048;
const hexOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b).toString('hex'));
const offset = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const code = fc.constantFrom('SHIM_E_ABORTED', 'SHIM_E_BAD_SECRET', 'SHIM_E_MOVED');

const frameArb: fc.Arbitrary<ShimFrame> = fc.oneof(
  fc.record({ type: fc.constant('HELLO' as const), hello: fc.record({ v: fc.constant(1 as const), op: fc.constant('open' as const), service: fc.string({ minLength: 1, maxLength: 64 }), shim: fc.integer({ min: 0, max: 31 }) }) }),
  fc.record({
    type: fc.constant('HELLO' as const),
    hello: fc.record({ v: fc.constant(1 as const), op: fc.constant('resume' as const), service: fc.string({ minLength: 1, maxLength: 20 }), shim: fc.integer({ min: 0, max: 31 }), session: hexOf(16), secret: hexOf(32), received: offset }),
  }),
  fc.record({ type: fc.constant('WELCOME' as const), welcome: fc.record({ session: hexOf(16), secret: hexOf(32), received: offset }) }),
  fc.record({ type: fc.constant('REFUSE' as const), info: fc.record({ code, message: fc.string({ maxLength: 100 }) }) }),
  fc.record({ type: fc.constant('CLOSE' as const), info: fc.record({ code, message: fc.string({ maxLength: 100 }) }) }),
  fc.record({ type: fc.constant('DATA' as const), offset, data: fc.uint8Array({ minLength: 1, maxLength: MAX_DATA }) }),
  fc.record({ type: fc.constant('ACK' as const), received: offset }),
  fc.record({ type: fc.constant('FIN' as const), offset }),
  fc.constant({ type: 'PING' as const }),
  fc.record({ type: fc.constant('CHALLENGE' as const), challenge: fc.record({ nonce: hexOf(32) }) }),
  fc.record({
    type: fc.constant('HELLO' as const),
    hello: fc.record({ v: fc.constant(1 as const), op: fc.constant('prove' as const), service: fc.string({ minLength: 1, maxLength: 20 }), shim: fc.integer({ min: 0, max: 31 }), session: hexOf(16), received: offset, nonce: hexOf(32), proof: hexOf(32) }),
  }),
  fc.record({ type: fc.constant('WELCOME' as const), welcome: fc.record({ session: hexOf(16), received: offset, proof: hexOf(32) }) }),
);

const plain = (f: ShimFrame) => (f.type === 'DATA' ? { ...f, data: [...f.data] } : f);

/** Cuts `bytes` at the given points (fractions). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const a of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, a));
    prev = a;
  }
  return out;
}

describe('ShimDecoder', () => {
  it('decodes any sequence of frames however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }), (frames, cuts) => {
        const bytes = Buffer.concat(frames.flatMap((f) => encodeFrame(f)));
        const d = new ShimDecoder(MAX_DATA);
        const got = split(bytes, cuts).flatMap((c) => d.push(c));
        d.end();
        expect(got.map(plain)).toEqual(frames.map(plain));
        expect(d.current).toBe('ended');
      }),
      { numRuns: 300 },
    );
  });

  it('answers garbage with a SHIM_E_* error, never anything else, and refuses everything after it', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
        const d = new ShimDecoder(MAX_DATA);
        let failed: unknown = null;
        for (const c of chunks) {
          try {
            d.push(c);
          } catch (e) {
            failed = e;
            break;
          }
        }
        if (failed === null) {
          try {
            d.end();
          } catch (e) {
            failed = e;
          }
        }
        if (failed !== null) {
          expect(failed).toBeInstanceOf(ArmoryError);
          expect((failed as ArmoryError).code).toMatch(/^SHIM_E_/);
          expect(() => d.push(new Uint8Array([8, 0, 0, 0, 0]))).toThrow(ArmoryError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses an oversized frame on its header, before its payload arrives', () => {
    const d = new ShimDecoder(MAX_DATA);
    const h = Buffer.alloc(5);
    h[0] = 4;
    h.writeUInt32BE(8 + MAX_DATA + 1, 1);
    expect(() => d.push(h)).toThrow(expect.objectContaining({ code: 'SHIM_E_FRAME_TOO_LARGE' }));
  });

  it('a stream that stops inside a frame is SHIM_E_TRUNCATED', () => {
    const d = new ShimDecoder(MAX_DATA);
    const whole = Buffer.concat(encodeFrame({ type: 'ACK', received: 5 }));
    d.push(whole.subarray(0, 7));
    expect(() => d.end()).toThrow(expect.objectContaining({ code: 'SHIM_E_TRUNCATED' }));
  });
});
