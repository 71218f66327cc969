import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArmoryError } from '../../../../common/errors/armory-error.js';
import { ReplyGate } from '../../../../agent/shims/reply-gate.js';

/** A barrier whose calls are settled by the test, in order. */
function manualBarrier(onCall: () => void = () => undefined) {
  const calls: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  const barrier = () =>
    new Promise<void>((resolve, reject) => {
      onCall();
      calls.push({ resolve, reject });
    });
  return { barrier, calls };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

function gateWith(barrier: () => Promise<void>) {
  const seen = { released: [] as number[], failed: [] as unknown[] };
  const gate: ReplyGate = new ReplyGate(barrier, { released: () => seen.released.push(gate.released), failed: (e) => seen.failed.push(e) });
  return { gate, seen };
}

describe('ReplyGate', () => {
  it('releases nothing until the barrier resolves, then everything seen when it started', async () => {
    const b = manualBarrier();
    const { gate, seen } = gateWith(b.barrier);
    gate.advance(10);
    expect(b.calls).toHaveLength(1);
    expect(gate.released).toBe(0);
    expect(gate.holding).toBe(true);
    b.calls[0]?.resolve();
    await flush();
    expect(seen.released).toEqual([10]);
    expect(gate.holding).toBe(false);
    expect(b.calls).toHaveLength(1);
  });

  it('runs one barrier at a time: what arrives meanwhile waits for the next, which covers all of it', async () => {
    const b = manualBarrier();
    const { gate, seen } = gateWith(b.barrier);
    gate.advance(5);
    gate.advance(9);
    gate.advance(12);
    expect(b.calls).toHaveLength(1);
    b.calls[0]?.resolve();
    await flush();
    // Bytes 5..12 arrived after the first barrier began: they could answer later writes.
    expect(seen.released).toEqual([5]);
    expect(b.calls).toHaveLength(2);
    gate.advance(20);
    b.calls[1]?.resolve();
    await flush();
    expect(seen.released).toEqual([5, 12]);
    expect(b.calls).toHaveLength(3);
    b.calls[2]?.resolve();
    await flush();
    expect(seen.released).toEqual([5, 12, 20]);
    expect(b.calls).toHaveLength(3);
  });

  it('a rejection is reported once and nothing is released after it', async () => {
    const b = manualBarrier();
    const { gate, seen } = gateWith(b.barrier);
    gate.advance(3);
    const e = new ArmoryError('MIRROR_E_TARGET_DOWN', 'the mirror closed');
    b.calls[0]?.reject(e);
    await flush();
    expect(seen.failed).toEqual([e]);
    gate.advance(8);
    await flush();
    expect(b.calls).toHaveLength(1);
    expect(gate.released).toBe(0);
  });

  it('a barrier that throws instead of rejecting fails the gate the same way', async () => {
    const { gate, seen } = gateWith(() => {
      throw new Error('no mirror');
    });
    gate.advance(1);
    await flush();
    expect(seen.failed.map((x) => (x as Error).message)).toEqual(['no mirror']);
  });

  it('stopped, a barrier under way settles into nothing', async () => {
    const b = manualBarrier();
    const { gate, seen } = gateWith(b.barrier);
    gate.advance(4);
    gate.stop();
    b.calls[0]?.resolve();
    await flush();
    expect(seen.released).toEqual([]);
    expect(gate.released).toBe(0);
  });

  it('never releases past what was seen when the resolving barrier began, and catches up once the stream rests (model check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.record({ grow: fc.integer({ min: 0, max: 50 }) }), fc.constant('resolve' as const)), { maxLength: 40 }), async (ops) => {
        let end = 0;
        // Where the stream was when each barrier began.
        const seenAtCall: number[] = [];
        const b = manualBarrier(() => seenAtCall.push(end));
        const { gate, seen } = gateWith(b.barrier);
        let settled = 0;
        for (const op of ops) {
          if (op === 'resolve') {
            const c = b.calls[settled];
            if (!c) continue;
            settled += 1;
            c.resolve();
            await flush();
            expect(gate.released).toBe(seenAtCall[settled - 1]);
          } else {
            end += op.grow;
            gate.advance(end);
          }
          // At most one barrier unsettled at any time.
          expect(b.calls.length - settled).toBeLessThanOrEqual(1);
          expect(gate.released).toBeLessThanOrEqual(end);
        }
        // The stream rests: the barriers still to come release all of it.
        for (let i = 0; i < 3 && settled < b.calls.length; i += 1) {
          (b.calls[settled] as { resolve: () => void }).resolve();
          settled += 1;
          await flush();
        }
        expect(gate.released).toBe(end);
        expect(seen.failed).toEqual([]);
        expect([...seen.released].sort((x, y) => x - y)).toEqual(seen.released);
      }),
      { numRuns: 300 },
    );
  });
});
