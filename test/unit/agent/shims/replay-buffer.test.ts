import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../../../../agent/shims/replay-buffer.js';

type Op = { kind: 'push'; bytes: number } | { kind: 'ack'; frac: number } | { kind: 'ackBeyond' } | { kind: 'replay'; frac: number; piece: number; upTo: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('push' as const), bytes: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ kind: fc.constant('ack' as const), frac: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.constant({ kind: 'ackBeyond' as const }),
  fc.record({ kind: fc.constant('replay' as const), frac: fc.double({ min: 0, max: 1, noNaN: true }), piece: fc.integer({ min: 1, max: 100 }), upTo: fc.double({ min: 0, max: 1, noNaN: true }) }),
);

describe('ReplayBuffer', () => {
  it('always replays exactly the unacknowledged bytes of the stream from any offset up to any later one, in pieces within the frame size (model check)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const buf = new ReplayBuffer(1000);
        const stream: number[] = []; // the whole stream so far, byte i = i % 251
        let acked = 0;
        for (const op of ops) {
          if (op.kind === 'push') {
            const chunk = Buffer.from(Array.from({ length: op.bytes }, (_v, i) => (stream.length + i) % 251));
            expect(buf.push(chunk)).toBe(stream.length);
            for (const b of chunk) stream.push(b);
          } else if (op.kind === 'ack') {
            const to = acked + Math.floor(op.frac * (stream.length - acked));
            expect(buf.ack(to)).toBe(true);
            acked = to;
          } else if (op.kind === 'ackBeyond') {
            expect(buf.ack(stream.length + 1)).toBe(false);
          } else {
            const from = acked + Math.floor(op.frac * (stream.length - acked));
            // Up to the end, or (half the time) up to an offset in between: what a reply gate released.
            const until = op.upTo < 0.5 ? stream.length : from + Math.floor((op.upTo - 0.5) * 2 * (stream.length - from));
            const pieces = until === stream.length ? [...buf.from(from, op.piece)] : [...buf.from(from, op.piece, until)];
            let at = from;
            for (const p of pieces) {
              expect(p.offset).toBe(at);
              expect(p.data.length).toBeGreaterThan(0);
              expect(p.data.length).toBeLessThanOrEqual(op.piece);
              at += p.data.length;
            }
            expect(Buffer.concat(pieces.map((p) => p.data))).toEqual(Buffer.from(stream.slice(from, until)));
          }
          expect(buf.acked).toBe(acked);
          expect(buf.end).toBe(stream.length);
          expect(buf.bytes).toBe(stream.length - acked);
          expect(buf.full).toBe(stream.length - acked >= 1000);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('an older acknowledgement than the last changes nothing', () => {
    const b = new ReplayBuffer(100);
    b.push(Buffer.from('abcdef'));
    b.ack(4);
    expect(b.ack(2)).toBe(true);
    expect(b.acked).toBe(4);
    expect(Buffer.concat([...b.from(4, 10)].map((p) => p.data)).toString()).toBe('ef');
  });

  it('refuses to replay from outside what it holds', () => {
    const b = new ReplayBuffer(100);
    b.push(Buffer.from('abcdef'));
    b.ack(2);
    expect(() => [...b.from(1, 10)]).toThrow(RangeError);
    expect(() => [...b.from(7, 10)]).toThrow(RangeError);
    expect([...b.from(6, 10)]).toEqual([]);
    expect(() => [...b.from(3, 10, 7)]).toThrow(RangeError);
    expect(() => [...b.from(4, 10, 3)]).toThrow(RangeError);
    expect(Buffer.concat([...b.from(3, 1, 5)].map((p) => p.data)).toString()).toBe('de');
  });

  it('reset starts the stream over (a reopen to a new server)', () => {
    const b = new ReplayBuffer(4);
    b.push(Buffer.from('abcdef'));
    expect(b.full).toBe(true);
    b.reset();
    expect([b.acked, b.end, b.bytes, b.full]).toEqual([0, 0, 0, false]);
  });
});
