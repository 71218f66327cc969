import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { availability } from '../../../../../main/core/events/availability.js';

describe('availability from state changes', () => {
  it('is the running time over the known time in the window', () => {
    const changes = [
      { time: 0, to: 'starting' },
      { time: 10, to: 'running' },
      { time: 60, to: 'starting' },
      { time: 70, to: 'running' },
    ];
    expect(availability(changes, 0, 100)).toEqual({ availability: 0.8, upMs: 80, knownMs: 100 });
    expect(availability(changes, 20, 100)).toEqual({ availability: 70 / 80, upMs: 70, knownMs: 80 });
  });

  it('knows nothing before the first change', () => {
    expect(availability([{ time: 50, to: 'running' }], 0, 100)).toEqual({ availability: 1, upMs: 50, knownMs: 50 });
    expect(availability([], 0, 100).availability).toBeNull();
  });

  it('stays within [0, 1] and never counts more than the window, for any changes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ time: fc.integer({ min: -1000, max: 2000 }), to: fc.constantFrom('running', 'starting', 'failed', 'stopped') })),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 1000 }),
        (changes, from, len) => {
          const a = availability(changes, from, from + len);
          expect(a.knownMs).toBeLessThanOrEqual(len);
          expect(a.upMs).toBeLessThanOrEqual(a.knownMs);
          if (a.availability !== null) expect(a.availability).toBeGreaterThanOrEqual(0);
          if (a.availability !== null) expect(a.availability).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});
