import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { voteReplicas, type ReplicaStatus, type VoteInput } from '../../../../common/jobs/vote.js';

/** A replica's run as the tests write it: a fingerprint letter, or how it failed. */
type Shape = 'A' | 'B' | 'C' | Exclude<ReplicaStatus, 'exited'>;
const SHAPES: readonly Shape[] = ['A', 'B', 'C', 'crashed', 'timed-out', 'failed-to-start'];

function replicas(shapes: readonly Shape[]): VoteInput[] {
  return shapes.map((s, i) =>
    s === 'A' || s === 'B' || s === 'C'
      ? { replica: i + 1, label: `replica ${i + 1}`, status: 'exited', fingerprint: s.repeat(64), reason: 'exit code 0' }
      : { replica: i + 1, label: `replica ${i + 1}`, status: s, fingerprint: null, reason: `it ${s}` },
  );
}

/** Every list of n shapes. */
function* allShapes(n: number): Generator<Shape[]> {
  if (n === 0) {
    yield [];
    return;
  }
  for (const rest of allShapes(n - 1)) for (const s of SHAPES) yield [...rest, s];
}

/** The rule written the slow, obvious way: the one most common result, if it reaches the quorum. */
function oracle(shapes: readonly Shape[], quorum: number): string | null {
  const counts = (['A', 'B', 'C'] as const).map((f) => ({ f, n: shapes.filter((s) => s === f).length }));
  const max = Math.max(...counts.map((c) => c.n));
  const top = counts.filter((c) => c.n === max);
  return max >= quorum && max > 0 && top.length === 1 ? (top[0] as { f: string }).f.repeat(64) : null;
}

describe('voteReplicas', () => {
  it('agrees with the obvious rule for every outcome of 1 to 5 replicas and every quorum', () => {
    let cases = 0;
    const wrong: string[] = [];
    for (let n = 1; n <= 5; n += 1) {
      for (const shapes of allShapes(n)) {
        for (let q = 1; q <= n; q += 1) {
          const v = voteReplicas(replicas(shapes), q);
          const want = oracle(shapes, q);
          const verdicts = shapes.map((s) =>
            s === 'crashed' || s === 'timed-out' || s === 'failed-to-start' ? s : want === null ? 'undecided' : s.repeat(64) === want ? 'agreed' : 'dissented',
          );
          const agreed = verdicts.filter((x) => x === 'agreed').length;
          const ok =
            v.winner === want &&
            v.decided === (want !== null) &&
            v.judgements.every((j, i) => j.verdict === verdicts[i]) &&
            (want === null || agreed === v.votes);
          if (!ok) wrong.push(`${shapes.join(',')} quorum ${q}`);
          cases += 1;
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(cases).toBeGreaterThan(40_000);
  });

  it('names dissenting, crashed, timed-out and failed replicas with their reason in the summary', () => {
    const v = voteReplicas(replicas(['A', 'A', 'B', 'crashed', 'timed-out', 'failed-to-start', 'A']), 3);
    expect(v.decided).toBe(true);
    expect(v.summary).toMatch(/^3 of 7 agree \(quorum 3\)/);
    expect(v.summary).toContain('replica 3 dissented');
    expect(v.summary).toContain('differs from the majority');
    expect(v.summary).toContain('replica 4 crashed (it crashed)');
    expect(v.summary).toContain('replica 5 timed-out (it timed-out)');
    expect(v.summary).toContain('replica 6 failed-to-start (it failed-to-start)');
  });

  it('says why there is no majority', () => {
    expect(voteReplicas(replicas(['A', 'B']), 1).summary).toMatch(/^no majority: a tie at 1 of 2/);
    expect(voteReplicas(replicas(['A', 'B', 'C']), 2).summary).toMatch(/^no majority: a tie at 1 of 3/);
    expect(voteReplicas(replicas(['A', 'A', 'B']), 3).summary).toMatch(/^no majority: at most 2 of 3 agree, quorum is 3/);
    expect(voteReplicas(replicas(['crashed', 'timed-out']), 1).summary).toMatch(/^no majority: no replica produced a result/);
    expect(voteReplicas([], 1).decided).toBe(false);
  });

  it('an exited replica without a fingerprint cannot vote', () => {
    const v = voteReplicas([{ replica: 1, label: 'r1', status: 'exited', fingerprint: null, reason: 'no result' }], 1);
    expect(v.decided).toBe(false);
    expect(v.judgements[0]?.verdict).toBe('failed-to-start');
  });

  const shapeList = fc.array(fc.constantFrom(...SHAPES), { minLength: 1, maxLength: 15 });

  it('does not depend on the order replicas are listed in', () => {
    fc.assert(
      fc.property(shapeList, fc.integer({ min: 1, max: 15 }), fc.integer(), (shapes, quorum, seed) => {
        const list = replicas(shapes);
        const shuffled = [...list].sort((a, b) => ((a.replica * 7919 + seed) % 13) - ((b.replica * 7919 + seed) % 13));
        const a = voteReplicas(list, quorum);
        const b = voteReplicas(shuffled, quorum);
        expect(b.winner).toBe(a.winner);
        const verdicts = (v: typeof a) => Object.fromEntries(v.judgements.map((j) => [j.replica, j.verdict]));
        expect(verdicts(b)).toEqual(verdicts(a));
      }),
    );
  });

  it('a decision always has at least quorum agreeing replicas, strictly more than any other result', () => {
    fc.assert(
      fc.property(shapeList, fc.integer({ min: 1, max: 15 }), (shapes, quorum) => {
        const v = voteReplicas(replicas(shapes), quorum);
        expect(v.judgements).toHaveLength(shapes.length);
        if (!v.decided) {
          expect(v.judgements.some((j) => j.verdict === 'agreed' || j.verdict === 'dissented')).toBe(false);
          return;
        }
        const agreed = v.judgements.filter((j) => j.verdict === 'agreed');
        expect(agreed.length).toBeGreaterThanOrEqual(quorum);
        const others = new Map<string, number>();
        for (const j of v.judgements) if (j.verdict === 'dissented' && j.fingerprint) others.set(j.fingerprint, (others.get(j.fingerprint) ?? 0) + 1);
        for (const n of others.values()) expect(n).toBeLessThan(agreed.length);
      }),
    );
  });

  it('adding an agreeing replica never undoes a decision', () => {
    fc.assert(
      fc.property(shapeList, fc.integer({ min: 1, max: 15 }), (shapes, quorum) => {
        const v = voteReplicas(replicas(shapes), quorum);
        if (!v.decided) return;
        const letter = (v.winner as string)[0] as Shape;
        expect(voteReplicas(replicas([...shapes, letter]), quorum).winner).toBe(v.winner);
      }),
    );
  });
});
