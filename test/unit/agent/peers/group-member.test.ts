import { describe, expect, it } from 'vitest';
import { groupDeadlines } from '../../../../agent/peers/deadlines.js';
import { GroupMember } from '../../../../agent/peers/group-member.js';
import type { ArmoryError } from '../../../../common/errors/armory-error.js';
import type { PeerHeartbeat } from '../../../../common/wire/peer-heartbeat.js';

function member(epoch = 3) {
  let t = 1000;
  const refused: ArmoryError[] = [];
  const m = new GroupMember({
    group: 'g',
    self: 'a',
    rules: { voters: ['a', 'b', 'c'], members: { a: 200, b: 100 }, failback: 'manual', failbackAfterMs: 60_000, failAfterMs: 300, leaseMs: 238 },
    deadlines: groupDeadlines(100, 300),
    stored: { inc: 1, epoch, granted: null },
    now: () => t,
    send: () => undefined,
    persist: () => undefined,
    perform: () => undefined,
    journal: () => undefined,
    refused: (e) => refused.push(e),
  });
  return { m, refused, advance: (ms: number) => (t += ms) };
}

const hb = (over: Partial<PeerHeartbeat> = {}): PeerHeartbeat => ({
  group: 'g',
  from: 'b',
  inc: 1,
  seq: 1,
  epoch: 3,
  granted: 3,
  role: 'standby',
  proposal: 0,
  ready: true,
  priority: 100,
  vote: null,
  heard: {},
  ...over,
});

describe('a group member refuses heartbeats with a code', () => {
  it('a replayed or older heartbeat: PEER_E_REPLAY; a new incarnation is accepted', () => {
    const { m } = member();
    expect(m.receive(hb({ seq: 5 }))).toBeNull();
    expect(m.receive(hb({ seq: 5 }))?.code).toBe('PEER_E_REPLAY');
    expect(m.receive(hb({ seq: 4 }))?.code).toBe('PEER_E_REPLAY');
    expect(m.receive(hb({ inc: 0, seq: 99 }))?.code).toBe('PEER_E_REPLAY');
    expect(m.receive(hb({ inc: 2, seq: 1 }))).toBeNull();
  });

  it('a heartbeat from an older epoch: PEER_E_STALE_EPOCH; a newer epoch is learnt', () => {
    const { m, refused } = member(3);
    expect(m.receive(hb({ epoch: 2 }))?.code).toBe('PEER_E_STALE_EPOCH');
    expect(m.receive(hb({ seq: 2, epoch: 6 }))).toBeNull();
    expect(m.epoch).toBe(6);
    expect(m.receive(hb({ from: 'c', epoch: 5 }))?.code).toBe('PEER_E_STALE_EPOCH');
    expect(refused.map((e) => e.code)).toEqual(['PEER_E_STALE_EPOCH', 'PEER_E_STALE_EPOCH']);
  });

  it('a heartbeat of another group or from no voter: PEER_E_UNKNOWN_SENDER', () => {
    const { m } = member();
    expect(m.receive(hb({ group: 'other' }))?.code).toBe('PEER_E_UNKNOWN_SENDER');
    expect(m.receive(hb({ from: 'z' }))?.code).toBe('PEER_E_UNKNOWN_SENDER');
    expect(m.receive(hb({ from: 'a' }))?.code).toBe('PEER_E_UNKNOWN_SENDER');
  });

  it('reports heartbeat health per voter', () => {
    const { m, advance } = member();
    m.receive(hb());
    advance(400);
    expect(m.health()).toEqual([
      { node: 'b', lastHeardMs: 400, fresh: false },
      { node: 'c', lastHeardMs: null, fresh: false },
    ]);
  });
});

describe('a member restarted after it may have held the group', () => {
  function restarted(granted: { to: string; epoch: number } | null, epoch = 3) {
    let t = 1000;
    const sent: PeerHeartbeat[] = [];
    const m = new GroupMember({
      group: 'g',
      self: 'a',
      rules: { voters: ['a', 'b', 'c'], members: { a: 200, b: 100, c: 50 }, failback: 'manual', failbackAfterMs: 60_000, failAfterMs: 300, leaseMs: 238 },
      deadlines: groupDeadlines(100, 300),
      stored: { inc: 2, epoch, granted },
      now: () => t,
      send: (_to, h) => sent.push(h),
      persist: () => undefined,
      perform: () => undefined,
      journal: () => undefined,
    });
    m.setReady(true);
    return { m, sent, advance: (ms: number) => (t += ms) };
  }

  it('announces itself not ready, so that the others take over, until it sees another member active', () => {
    const { m, sent, advance } = restarted({ to: 'a', epoch: 3 });
    expect(m.isRecovering).toBe(true);
    expect(sent.at(-1)?.ready).toBe(false);
    m.receive(hb({ seq: 1, role: 'standby', heard: { a: [2, 1], c: [1, 1] } }));
    m.receive(hb({ from: 'c', seq: 1, priority: 50, heard: { a: [2, 1], b: [1, 1] } }));
    advance(400);
    m.tick();
    // Heard by everyone, best priority, past its listening time: still it does not stand.
    expect(m.current).toBe('standby');
    m.receive(hb({ seq: 2, epoch: 3, role: 'active', proposal: 4, heard: { a: [2, 1], c: [1, 1] } }));
    expect(m.isRecovering).toBe(false);
    expect(sent.at(-1)?.ready).toBe(true);
    advance(10);
    m.tick();
    // Failback is manual: the incumbent keeps the group.
    expect(m.current).toBe('standby');
  });

  it('is ready again after the listening bound when no other member takes over', () => {
    const { m, sent, advance } = restarted({ to: 'a', epoch: 3 });
    advance(1999);
    m.tick();
    expect(m.isRecovering).toBe(true);
    advance(1);
    m.tick();
    expect(m.isRecovering).toBe(false);
    expect(sent.at(-1)?.ready).toBe(true);
  });

  it('a member whose last vote went to another node is ready at once', () => {
    expect(restarted({ to: 'b', epoch: 3 }).m.isRecovering).toBe(false);
    expect(restarted(null, 0).m.isRecovering).toBe(false);
    expect(restarted({ to: 'a', epoch: 2 }, 3).m.isRecovering).toBe(false);
  });
});

describe('a restarted voter', () => {
  it('votes for nobody but its durable grant for one failure timeout after it starts, then votes again', () => {
    let t = 1000;
    const sent: PeerHeartbeat[] = [];
    const m = new GroupMember({
      group: 'g',
      self: 'c',
      rules: { voters: ['a', 'b', 'c'], members: { a: 200, b: 100 }, failback: 'manual', failbackAfterMs: 60_000, failAfterMs: 300, leaseMs: 238 },
      deadlines: groupDeadlines(100, 300),
      // Before it died it had granted epoch 3 to a; a may still count that vote.
      stored: { inc: 1, epoch: 2, granted: { to: 'a', epoch: 3 } },
      now: () => t,
      send: (_to, h) => sent.push(h),
      persist: () => undefined,
      perform: () => undefined,
      journal: () => undefined,
      refused: () => undefined,
    });
    const votes = () => sent.filter((h) => h.vote !== null).map((h) => h.vote);
    // b (a is silent) stands for epoch 4 right after the restart: no vote for it yet.
    for (let i = 1; i <= 2; i += 1) {
      m.receive(hb({ from: 'b', seq: i, epoch: 2, granted: 4, role: 'candidate', proposal: 4, heard: { b: [1, i] } }), t);
      m.tick(t);
      m.broadcast();
      t += 100;
    }
    expect(votes()).toEqual([]);
    // One failure timeout after the start, the vote goes to b.
    t = 1000 + 300;
    m.receive(hb({ from: 'b', seq: 3, epoch: 2, granted: 4, role: 'candidate', proposal: 4, heard: { b: [1, 3] } }), t);
    m.tick(t);
    m.broadcast();
    expect(votes().at(-1)).toEqual({ for: 'b', epoch: 4 });
    m.dispose();
  });
});


describe('a member that has heard every voter', () => {
  it('stands one failure timeout after the active member falls silent, not at the end of the joining bound', () => {
    let t = 1000;
    const m = new GroupMember({
      group: 'g',
      self: 'b',
      rules: { voters: ['a', 'b', 'c'], members: { a: 200, b: 100 }, failback: 'manual', failbackAfterMs: 60_000, failAfterMs: 300, leaseMs: 238 },
      deadlines: groupDeadlines(100, 300),
      stored: { inc: 1, epoch: 3, granted: null },
      now: () => t,
      send: () => undefined,
      persist: () => undefined,
      perform: () => undefined,
      journal: () => undefined,
    });
    m.setReady(true);
    // The group has formed: a is active in epoch 3, c votes for it; b hears both for 500 ms.
    let seq = 0;
    for (; t < 1500; t += 100) {
      seq += 1;
      m.receive(hb({ from: 'a', seq, role: 'active', proposal: 3, priority: 200, heard: { b: [1, seq], c: [1, seq] } }), t);
      m.receive(hb({ from: 'c', seq, priority: 0, vote: { for: 'a', epoch: 3 }, heard: { a: [1, seq], b: [1, seq] } }), t);
      m.tick(t);
    }
    expect(m.current).toBe('standby');
    const lastHeardA = t - 100;
    // a falls silent; c goes on. b stands once a has been silent for failAfter (300 ms), long before 2 s after joining.
    let stoodAt: number | null = null;
    for (; t < 1000 + 2000 && stoodAt === null; t += 10) {
      if ((t - 1000) % 100 === 0) {
        seq += 1;
        m.receive(hb({ from: 'c', seq, priority: 0, vote: { for: 'a', epoch: 3 }, heard: { b: [1, seq] } }), t);
      }
      m.tick(t);
      if (m.current === 'candidate') stoodAt = t;
    }
    expect(stoodAt).not.toBeNull();
    expect((stoodAt as number) - lastHeardA).toBeLessThanOrEqual(300 + 20);
    m.dispose();
  });
});

describe('the word on members whose mirrored data lags', () => {
  function three(self: string) {
    const t = 1000;
    const m = new GroupMember({
      group: 'g',
      self,
      rules: { voters: ['a', 'b', 'c'], members: { a: 200, b: 150, c: 100 }, failback: 'manual', failbackAfterMs: 60_000, failAfterMs: 300, leaseMs: 238 },
      deadlines: groupDeadlines(100, 300),
      stored: { inc: 1, epoch: 3, granted: null },
      now: () => t,
      send: (_to, h) => sent.push(h),
      persist: () => undefined,
      perform: () => undefined,
      journal: () => undefined,
    });
    const sent: PeerHeartbeat[] = [];
    return { m, sent };
  }
  const word = (nodes: string[], seq: number, epoch = 3) => ({ by: 'a', epoch, inc: 1, seq, nodes });

  it('is taken from the active node, passed on by the others, and cleared by a heartbeat of the active without one', () => {
    const { m, sent } = three('c');
    m.receive(hb({ from: 'a', seq: 1, role: 'active', proposal: 3, lagging: word(['b'], 1) }));
    expect(m.lagging).toEqual(['b']);
    m.broadcast();
    expect(sent.at(-1)?.lagging).toEqual(word(['b'], 1));
    // An older word passed on by another voter changes nothing.
    m.receive(hb({ from: 'b', seq: 1, lagging: word([], 0) }));
    expect(m.lagging).toEqual(['b']);
    m.receive(hb({ from: 'a', seq: 2, role: 'active', proposal: 3 }));
    expect(m.lagging).toEqual([]);
    m.broadcast();
    expect(sent.at(-1)?.lagging).toBeUndefined();
  });

  it('a member cut off from the active learns it from another voter; a word of a newer epoch wins', () => {
    const { m } = three('b');
    m.receive(hb({ from: 'c', seq: 1, lagging: word(['b'], 9) }));
    expect(m.lagging).toEqual(['b']);
    m.receive(hb({ from: 'c', seq: 2, epoch: 4, role: 'active', proposal: 4 }));
    expect(m.lagging).toEqual([]);
    // Names that are no members (a witness, an unknown node) are dropped.
    m.receive(hb({ from: 'c', seq: 3, epoch: 4, role: 'active', proposal: 4, lagging: { by: 'c', epoch: 4, inc: 1, seq: 3, nodes: ['zz', 'a'] } }));
    expect(m.lagging).toEqual(['a']);
  });

  it('a standby never states a word of its own', () => {
    const { m, sent } = three('b');
    m.setLagging(['c']);
    m.broadcast();
    expect(sent.at(-1)?.lagging).toBeUndefined();
    expect(m.lagging).toEqual([]);
  });
});
