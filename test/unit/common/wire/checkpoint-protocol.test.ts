import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArmoryError } from '../../../../common/errors/armory-error.js';
import { CheckpointRequestDecoder, encodeFrame, MAX_FRAME_BYTES, type DecodedPart } from '../../../../common/wire/checkpoint-protocol.js';

const enc = (s: string) => new TextEncoder().encode(s);

/** Feeds the bytes in the given chunking; returns the parts or the coded error. */
function decode(bytes: Uint8Array, cuts: number[], maxSize = 1 << 20): { parts: DecodedPart[] } | { code: string } {
  const d = new CheckpointRequestDecoder(maxSize);
  const parts: DecodedPart[] = [];
  let prev = 0;
  try {
    for (const c of [...cuts.filter((x) => x > 0 && x < bytes.length).sort((a, b) => a - b), bytes.length]) {
      parts.push(...d.push(bytes.subarray(prev, c)));
      prev = c;
    }
    return { parts };
  } catch (e) {
    if (!(e instanceof ArmoryError)) throw e;
    return { code: e.code };
  }
}

const concat = (...xs: Uint8Array[]) => {
  const out = new Uint8Array(xs.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of xs) {
    out.set(x, o);
    o += x.length;
  }
  return out;
};

describe('the checkpoint socket protocol decoder', () => {
  it('any bytes in any chunking give parts or a CHECKPOINT_E_* error, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(3000), { maxLength: 8 }), (bytes, cuts) => {
        const r = decode(bytes, cuts, 2000);
        if ('code' in r) expect(r.code).toMatch(/^CHECKPOINT_E_/);
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated valid saves give parts or a coded error', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.array(fc.nat(4000), { maxLength: 5 }), (chunks, at, byte, cuts) => {
        const bytes = concat(enc('{"op":"save"}\n'), ...chunks.filter((c) => c.length > 0).map(encodeFrame), encodeFrame(new Uint8Array(0)));
        bytes[at % bytes.length] = byte;
        const r = decode(bytes, cuts, 1000);
        if ('code' in r) expect(r.code).toMatch(/^CHECKPOINT_E_/);
      }),
      { numRuns: 2000 },
    );
  });

  it('a save in any chunking yields its request, exactly its bytes and its end', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 500 }), { maxLength: 6 }), fc.array(fc.nat(4000), { maxLength: 10 }), (chunks, cuts) => {
        const bytes = concat(enc('{"op":"save"}\n'), ...chunks.map(encodeFrame), encodeFrame(new Uint8Array(0)));
        const r = decode(bytes, cuts);
        expect('parts' in r).toBe(true);
        if (!('parts' in r)) return;
        expect(r.parts[0]).toEqual({ kind: 'request', request: { op: 'save' } });
        const data = concat(...r.parts.filter((p) => p.kind === 'data').map((p) => (p as { bytes: Uint8Array }).bytes));
        expect(data).toEqual(concat(...chunks));
        expect(r.parts.at(-1)).toEqual({ kind: 'end', size: data.length });
      }),
    );
  });

  it('answers each kind of bad input with its code', () => {
    expect(decode(enc('not json\n'), [])).toEqual({ code: 'CHECKPOINT_E_BAD_REQUEST' });
    expect(decode(enc('{"op":"drop"}\n'), [])).toEqual({ code: 'CHECKPOINT_E_BAD_REQUEST' });
    expect(decode(enc(`${'x'.repeat(2000)}`), [])).toEqual({ code: 'CHECKPOINT_E_BAD_REQUEST' });
    expect(decode(enc('{"op":"load"}\nextra'), [])).toEqual({ code: 'CHECKPOINT_E_FRAME' });
    const huge = new Uint8Array(4);
    new DataView(huge.buffer).setUint32(0, MAX_FRAME_BYTES + 1);
    expect(decode(concat(enc('{"op":"save"}\n'), huge), [])).toEqual({ code: 'CHECKPOINT_E_FRAME' });
    expect(decode(concat(enc('{"op":"save"}\n'), encodeFrame(new Uint8Array(600)), encodeFrame(new Uint8Array(600))), [], 1000)).toEqual({ code: 'CHECKPOINT_E_TOO_LARGE' });
    expect(decode(enc('{"op":"load","seq":3}\n'), [])).toEqual({ parts: [{ kind: 'request', request: { op: 'load', seq: 3 } }] });
  });
});
