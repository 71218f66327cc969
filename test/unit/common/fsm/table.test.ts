import { describe, expect, it } from 'vitest';
import { step, type TransitionTable } from '../../../../common/fsm/table.js';

// A small door: enough to pin down what step() does with listed and unlisted events.
type DoorState = 'open' | 'closed' | 'locked';
type DoorEvent = { type: 'open' } | { type: 'close' } | { type: 'lock'; code: string } | { type: 'knock' };
interface DoorCtx {
  readonly code: string | null;
  readonly changedAt: number;
}
type DoorEffect = { kind: 'beep' } | { kind: 'log'; text: string };

const STATES: readonly DoorState[] = ['open', 'closed', 'locked'];
const EVENTS: readonly DoorEvent[] = [{ type: 'open' }, { type: 'close' }, { type: 'lock', code: '1234' }, { type: 'knock' }];

const DOOR: TransitionTable<DoorState, DoorEvent, DoorCtx, DoorEffect> = {
  open: {
    close: (ctx, _e, now) => ({ to: 'closed', ctx: { ...ctx, changedAt: now }, effects: [{ kind: 'beep' }], reason: 'closed it' }),
  },
  closed: {
    open: (_ctx) => ({ to: 'open', reason: 'opened it' }),
    lock: (ctx, e) => ({ to: 'locked', ctx: { ...ctx, code: e.code }, effects: [{ kind: 'log', text: `locked with ${e.code}` }], reason: 'locked it' }),
  },
  locked: {},
};

const CTX: DoorCtx = { code: null, changedAt: 0 };

describe('step', () => {
  it('ignores an event the state does not list: not handled, same state, same context, no effects', () => {
    const r = step(DOOR, 'locked', CTX, { type: 'open' }, 5);
    expect(r).toEqual({ handled: false, from: 'locked', to: 'locked', ctx: CTX, effects: [], reason: 'ignored: open in locked' });
    expect(r.ctx).toBe(CTX);
  });

  it('ignores every unlisted (state, event) pair and handles every listed one', () => {
    for (const state of STATES) {
      for (const event of EVENTS) {
        const listed = Object.hasOwn(DOOR[state], event.type);
        const r = step(DOOR, state, CTX, event, 1);
        expect(r.handled, `${state} + ${event.type}`).toBe(listed);
        expect(r.from).toBe(state);
        if (!listed) {
          expect(r.to).toBe(state);
          expect(r.ctx).toBe(CTX);
          expect(r.effects).toEqual([]);
        }
      }
    }
  });

  it('returns the transition of a listed event with its effects, context and reason, passing the clock through', () => {
    const r = step(DOOR, 'open', CTX, { type: 'close' }, 42);
    expect(r).toEqual({ handled: true, from: 'open', to: 'closed', ctx: { code: null, changedAt: 42 }, effects: [{ kind: 'beep' }], reason: 'closed it' });
  });

  it('hands the event to its handler', () => {
    const r = step(DOOR, 'closed', CTX, { type: 'lock', code: '0000' }, 1);
    expect(r.to).toBe('locked');
    expect(r.ctx.code).toBe('0000');
    expect(r.effects).toEqual([{ kind: 'log', text: 'locked with 0000' }]);
  });

  it('keeps the context and gives no effects when the transition leaves them out', () => {
    const r = step(DOOR, 'closed', CTX, { type: 'open' }, 1);
    expect(r.handled).toBe(true);
    expect(r.to).toBe('open');
    expect(r.ctx).toBe(CTX);
    expect(r.effects).toEqual([]);
  });

  it('does not change the context it was given', () => {
    const ctx = Object.freeze({ code: null, changedAt: 0 });
    step(DOOR, 'open', ctx, { type: 'close' }, 9);
    expect(ctx).toEqual({ code: null, changedAt: 0 });
  });
});
