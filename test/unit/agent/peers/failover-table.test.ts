import { describe, expect, it } from 'vitest';
import { ANNOUNCED_ROLE, FAILOVER_EVENT_TYPES, FAILOVER_STATES, FAILOVER_TABLE, type FailoverEvent, type FailoverState } from '../../../../agent/peers/failover-table.js';
import { step } from '../../../../common/fsm/table.js';

const EVENTS: Record<FailoverEvent['type'], FailoverEvent> = {
  stand: { type: 'stand', epoch: 5, reason: 'best' },
  won: { type: 'won', reason: 'votes' },
  'took-over': { type: 'took-over' },
  yield: { type: 'yield', reason: 'lease ran out' },
  released: { type: 'released' },
};

/** Every (state, event) pair: the state it leads to and the effects in order; absent = ignored. */
const EXPECTED: Record<FailoverState, Partial<Record<FailoverEvent['type'], { to: FailoverState; effects: string[] }>>> = {
  standby: { stand: { to: 'candidate', effects: ['announce', 'persist-grant'] } },
  candidate: {
    won: { to: 'taking-over', effects: ['persist-epoch', 'announce', 'add-vip', 'arp', 'start-services', 'done:took-over'] },
    yield: { to: 'standby', effects: ['announce'] },
  },
  'taking-over': {
    'took-over': { to: 'active', effects: ['report-takeover'] },
    yield: { to: 'stepping-down', effects: ['announce', 'remove-vip', 'stop-services', 'done:released'] },
  },
  active: { yield: { to: 'stepping-down', effects: ['announce', 'remove-vip', 'stop-services', 'done:released'] } },
  'stepping-down': { released: { to: 'standby', effects: ['announce'] } },
};

describe('the failover transition table, every state × every event', () => {
  for (const state of FAILOVER_STATES) {
    for (const type of FAILOVER_EVENT_TYPES) {
      const want = EXPECTED[state][type];
      it(`${state} + ${type} → ${want ? want.to : 'ignored'}`, () => {
        const r = step(FAILOVER_TABLE, state, { epoch: state === 'standby' ? 0 : 4 }, EVENTS[type], 0);
        if (!want) {
          expect(r.handled).toBe(false);
          expect(r.effects).toEqual([]);
          return;
        }
        expect(r.handled).toBe(true);
        expect(r.to).toBe(want.to);
        expect(r.effects.map((e) => (e.kind === 'done' ? `done:${e.event}` : e.kind))).toEqual(want.effects);
        expect(r.reason.length).toBeGreaterThan(0);
      });
    }
  }

  it('a candidacy carries its epoch and writes its own vote durably; standby holds none', () => {
    const r = step(FAILOVER_TABLE, 'standby', { epoch: 0 }, EVENTS.stand, 0);
    expect(r.ctx.epoch).toBe(5);
    expect(r.effects[1]).toEqual({ kind: 'persist-grant', epoch: 5 });
    expect(step(FAILOVER_TABLE, 'stepping-down', { epoch: 5 }, EVENTS.released, 0).ctx.epoch).toBe(0);
  });

  it('the raised epoch is on disk before the address is added', () => {
    const r = step(FAILOVER_TABLE, 'candidate', { epoch: 5 }, EVENTS.won, 0);
    expect(r.effects[0]).toEqual({ kind: 'persist-epoch', epoch: 5 });
  });

  it('a node announces it may hold the address from taking over until released', () => {
    expect(FAILOVER_STATES.filter((s) => ANNOUNCED_ROLE[s] === 'active' || ANNOUNCED_ROLE[s] === 'releasing')).toEqual(['taking-over', 'active', 'stepping-down']);
  });

  it('every state is reachable from standby', () => {
    const seen = new Set<FailoverState>(['standby']);
    for (let round = 0; round < FAILOVER_STATES.length; round += 1) {
      for (const s of [...seen]) for (const type of FAILOVER_EVENT_TYPES) {
        const r = step(FAILOVER_TABLE, s, { epoch: 1 }, EVENTS[type], 0);
        if (r.handled) seen.add(r.to);
      }
    }
    expect([...seen].sort()).toEqual([...FAILOVER_STATES].sort());
  });
});
