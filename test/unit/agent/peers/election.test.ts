import { describe, expect, it } from 'vitest';
import { assess, majorityOf, type GroupRules, type PeerView, type SelfView } from '../../../../agent/peers/election.js';
import type { PeerRole } from '../../../../common/wire/peer-heartbeat.js';

const NOW = 10_000;
const F = 300;
const LEASE = 238;

/** What one other voter looks like from here: unheard, or heard with these facts. */
type PeerCase = null | { ready: boolean; seesMajority: boolean; votesForMe: boolean };
const PEER_CASES: PeerCase[] = [null];
for (const ready of [false, true]) for (const seesMajority of [false, true]) for (const votesForMe of [false, true]) PEER_CASES.push({ ready, seesMajority, votesForMe });

function rulesFor(n: number, witness: boolean): GroupRules {
  const voters = Array.from({ length: n }, (_v, i) => `n${i}`);
  const members = Object.fromEntries(voters.filter((_v, i) => !(witness && i === n - 1)).map((v, i) => [v, 200 - i * 10]));
  return { voters, members, failback: 'manual', failbackAfterMs: 60_000, failAfterMs: F, leaseMs: LEASE };
}

function* product(n: number): Generator<PeerCase[]> {
  if (n === 0) {
    yield [];
    return;
  }
  for (const rest of product(n - 1)) for (const c of PEER_CASES) yield [...rest, c];
}

function views(rules: GroupRules, self: string, cases: PeerCase[], proposal: number): PeerView[] {
  const others = rules.voters.filter((v) => v !== self);
  const majority = majorityOf(rules.voters.length);
  const out: PeerView[] = [];
  others.forEach((name, i) => {
    const c = cases[i];
    if (!c) return;
    out.push({
      name,
      lastRecvAt: NOW - 10,
      freshSince: NOW - 1000,
      priority: rules.members[name] ?? 0,
      ready: c.ready,
      epoch: 0,
      granted: c.votesForMe ? proposal : 0,
      role: 'standby',
      proposal: 0,
      vote: c.votesForMe ? { for: self, epoch: proposal } : null,
      heardCount: c.seesMajority ? majority : 1,
      echoSentAt: NOW - 20,
    });
  });
  return out;
}

describe('the election, for every view of up to 5 voters', () => {
  const shapes: { n: number; witness: boolean }[] = [];
  for (let n = 1; n <= 5; n += 1) {
    shapes.push({ n, witness: false });
    if (n >= 2) shapes.push({ n, witness: true });
  }

  it.each(shapes)('$n voters (last one a witness: $witness)', ({ n, witness }) => {
    const rules = rulesFor(n, witness);
    const majority = majorityOf(n);
    let checked = 0;
    const problems: unknown[] = [];
    for (const self of rules.voters) {
      for (const cases of product(n - 1)) {
        for (const selfReady of [false, true]) {
          for (const role of ['standby', 'candidate', 'active'] as PeerRole[]) {
            const proposal = role === 'standby' ? 0 : 7;
            const me: SelfView = { name: self, role, ready: selfReady, epoch: role === 'active' ? 7 : 6, proposal, granted: proposal ? { to: self, epoch: proposal } : null, lastVote: null, stableSince: 0 };
            const peers = views(rules, self, cases, proposal);
            const a = assess(me, peers, rules, NOW);
            checked += 1;
            const heard = 1 + peers.length;
            const isMember = Object.hasOwn(rules.members, self);
            const eligible = [
              ...(isMember && selfReady && heard >= majority ? [self] : []),
              ...peers.filter((p) => Object.hasOwn(rules.members, p.name) && p.ready && p.heardCount >= majority).map((p) => p.name),
            ].sort((x, y) => (rules.members[y] ?? 0) - (rules.members[x] ?? 0));
            // The choice is the highest-priority ready member that sees a majority; an eligible
            // active node keeps its place (failback is manual here).
            const choice = role === 'active' && eligible.includes(self) ? self : (eligible[0] ?? null);
            const support = [...(a.vote?.for === self ? [self] : []), ...peers.filter((p) => p.vote?.for === self).map((p) => p.name)].sort();
            let verdict: string;
            if (role === 'standby') verdict = choice === self ? 'stand' : 'idle';
            else if (choice !== self) verdict = 'yield';
            else if (role === 'candidate') verdict = support.length >= majority ? 'won' : 'hold';
            else verdict = support.length >= majority ? 'hold' : 'yield';
            const wrong =
              a.choice !== choice ||
              a.seesMajority !== heard >= majority ||
              a.verdict !== verdict ||
              (role !== 'standby' && a.support.join() !== support.join()) ||
              // A node that does not hear a majority is never active, nor stands.
              (heard < majority && a.verdict !== 'idle' && a.verdict !== 'yield');
            if (wrong) problems.push({ self, role, selfReady, cases, got: { choice: a.choice, verdict: a.verdict, support: a.support }, want: { choice, verdict, support } });
          }
        }
      }
    }
    expect(problems.slice(0, 3)).toEqual([]);
    expect(checked).toBe(n * PEER_CASES.length ** (n - 1) * 2 * 3);
  });
});

describe('the election rules', () => {
  const rules = rulesFor(3, false);
  const peer = (name: string, over: Partial<PeerView> = {}): PeerView => ({
    name,
    lastRecvAt: NOW - 10,
    freshSince: NOW - 100_000,
    priority: rules.members[name] ?? 0,
    ready: true,
    epoch: 3,
    granted: 3,
    role: 'standby',
    proposal: 0,
    vote: null,
    heardCount: 3,
    echoSentAt: NOW - 20,
    ...over,
  });
  const standby = (over: Partial<SelfView> = {}): SelfView => ({ name: 'n2', role: 'standby', ready: true, epoch: 3, proposal: 0, granted: null, lastVote: null, stableSince: 0, ...over });

  it('a vote for a candidate is not given while a node voted for earlier is fresh and has not released', () => {
    const a = assess(standby({ lastVote: 'n0' }), [peer('n0', { role: 'active', proposal: 3, ready: false }), peer('n1', { role: 'candidate', proposal: 4 })], rules, NOW);
    expect(a.choice).toBe('n1');
    expect(a.vote).toBeNull();
    const released = assess(standby({ lastVote: 'n0' }), [peer('n0', { role: 'standby', ready: false }), peer('n1', { role: 'candidate', proposal: 4 })], rules, NOW);
    expect(released.vote).toEqual({ for: 'n1', epoch: 4 });
    const stale = assess(standby({ lastVote: 'n0' }), [peer('n0', { role: 'active', proposal: 3, lastRecvAt: NOW - F }), peer('n1', { role: 'candidate', proposal: 4 })], rules, NOW);
    expect(stale.vote).toEqual({ for: 'n1', epoch: 4 });
  });

  it('a node does not stand while a vote it sent to another node may still count for it', () => {
    const promised = standby({ name: 'n0', lastVote: 'n1', granted: { to: 'n1', epoch: 4 } });
    const a = assess(promised, [peer('n1', { role: 'candidate', proposal: 4 }), peer('n2')], rules, NOW);
    expect(a.choice).toBe('n0');
    expect(a.verdict).toBe('idle');
    expect(a.vote).toBeNull();
    expect(assess(promised, [peer('n1', { role: 'standby' }), peer('n2')], rules, NOW).verdict).toBe('stand');
    expect(assess(promised, [peer('n1', { role: 'candidate', proposal: 4, lastRecvAt: NOW - F }), peer('n2')], rules, NOW).verdict).toBe('stand');
  });

  it('an epoch is granted to one node only, and never below the epoch in force', () => {
    const granted = standby({ granted: { to: 'n0', epoch: 4 } });
    expect(assess(granted, [peer('n1', { role: 'candidate', proposal: 4 })], rules, NOW).vote).toBeNull();
    expect(assess(granted, [peer('n1', { role: 'candidate', proposal: 5 })], rules, NOW).vote).toEqual({ for: 'n1', epoch: 5 });
    expect(assess(standby({ epoch: 6 }), [peer('n1', { role: 'candidate', proposal: 5 })], rules, NOW).vote).toBeNull();
  });

  it('a vote counts only within its lease, timed from the send time of the heartbeat it echoes', () => {
    const me: SelfView = { name: 'n0', role: 'active', ready: true, epoch: 4, proposal: 4, granted: { to: 'n0', epoch: 4 }, lastVote: 'n0', stableSince: 0 };
    const vote = { for: 'n0', epoch: 4 };
    expect(assess(me, [peer('n1', { vote, echoSentAt: NOW - LEASE + 1 })], rules, NOW).verdict).toBe('hold');
    expect(assess(me, [peer('n1', { vote, echoSentAt: NOW - LEASE })], rules, NOW).verdict).toBe('yield');
    expect(assess(me, [peer('n1', { vote: { for: 'n0', epoch: 3 } })], rules, NOW).verdict).toBe('yield');
  });

  it('an active incumbent keeps its place under manual failback; automatic failback waits for a stable better node', () => {
    const me = standby({ name: 'n2' });
    const views = [peer('n0', { freshSince: NOW - 1000 }), peer('n1', { role: 'active', proposal: 3 })];
    expect(assess(me, views, rules, NOW).choice).toBe('n1');
    expect(assess(me, views, { ...rules, failback: 'auto', failbackAfterMs: 5000 }, NOW).choice).toBe('n1');
    expect(assess(me, views, { ...rules, failback: 'auto', failbackAfterMs: 500 }, NOW).choice).toBe('n0');
  });

  it('a candidate proposes above every epoch in force or granted that it knows', () => {
    expect(assess(standby({ name: 'n0', epoch: 3, granted: { to: 'n1', epoch: 5 } }), [peer('n1', { granted: 8 }), peer('n2', { epoch: 6 })], rules, NOW).nextProposal).toBe(9);
  });

  it('a candidate whose epoch the other voters granted elsewhere yields (and stands again above it) instead of waiting for ever', () => {
    // n1 and n2 stood for epoch 5 at the same moment as n0, voted for themselves, then saw n0 was better.
    const me: SelfView = { name: 'n0', role: 'candidate', ready: true, epoch: 4, proposal: 5, granted: { to: 'n0', epoch: 5 }, lastVote: 'n0', stableSince: 0 };
    const lost = assess(me, [peer('n1', { granted: 5 }), peer('n2', { granted: 5 })], rules, NOW);
    expect(lost.verdict).toBe('yield');
    expect(lost.nextProposal).toBe(6);
    // One voter still free (or voting for it) is enough to wait for.
    expect(assess(me, [peer('n1', { granted: 5 }), peer('n2', { granted: 4 })], rules, NOW).verdict).toBe('hold');
    expect(assess(me, [peer('n1', { granted: 5, vote: { for: 'n0', epoch: 5 } }), peer('n2', { granted: 5 })], rules, NOW).verdict).toBe('won');
  });
});
