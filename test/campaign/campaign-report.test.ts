import { describe, expect, it } from 'vitest';
import type { FaultRecord } from './campaign-bed.js';
import type { ClientOp } from './campaign-client.js';
import { campaignHtml, campaignSvg } from './campaign-plot.js';
import { campaignReport, probeAvailability, type CampaignInput } from './campaign-report.js';
import { FAULT_KINDS, faultPlan } from './fault-plan.js';

const op = (start: number, end: number, result: ClientOp['result'], key = 1, kind: ClientOp['op'] = 'set'): ClientOp => ({ start, end, op: kind, key, result, why: '' });

describe('the fault plan', () => {
  it('is the same for the same seed, and covers every kind once per round', () => {
    expect(faultPlan(7, 12)).toEqual(faultPlan(7, 12));
    expect(faultPlan(7, 12)).not.toEqual(faultPlan(8, 12));
    const plan = faultPlan(42, 12);
    expect(new Set(plan.slice(0, 6))).toEqual(new Set(FAULT_KINDS));
    expect(new Set(plan.slice(6))).toEqual(new Set(FAULT_KINDS));
    expect(faultPlan(1, 3, ['crash', 'hang'])).toHaveLength(3);
  });
});

describe('probe availability', () => {
  it('is the share of client time spent in commands that got a reply', () => {
    const ops = [op(0, 5, 'ok'), op(10, 1010, 'fail'), op(1010, 1015, 'ok'), op(1020, 1025, 'miss')];
    const r = probeAvailability(ops, 0, 2000);
    expect(r.downMs).toBe(1000);
    expect(r.availability).toBeCloseTo(0.5);
    expect(probeAvailability([], 0, 10).availability).toBe(0);
  });

  it('counts the part of a command that falls in the window (a command sent just before a hang and failed after it)', () => {
    const ops = [op(-60, 940, 'fail'), op(940, 950, 'ok')];
    expect(probeAvailability(ops, 0, 1000).downMs).toBe(940);
  });
});

describe('the campaign report', () => {
  const fault = (kind: FaultRecord['kind'], injectAt: number, settledAt: number, after = 'h2'): FaultRecord => ({ kind, node: 'h1', injectAt, healedAt: injectAt, settledAt, recovered: true, after, notes: [] });
  const input = (): CampaignInput => ({
    seed: 1,
    from: 0,
    until: 10_000,
    faults: [fault('crash', 1000, 1500, 'h1'), fault('partition', 5000, 8000)],
    ops: [op(900, 950, 'ok', 1), op(1000, 1400, 'fail', 2), op(1400, 1450, 'ok', 2), op(4990, 4995, 'ok', 3), op(5010, 5015, 'ok', 4), op(5100, 6100, 'fail', 5), op(6100, 6200, 'ok', 5)],
    vip: [
      { t: 100, holders: ['h1'] },
      { t: 5200, holders: ['h1', 'h2'] },
      { t: 5210, holders: ['h1', 'h2'] },
      { t: 5220, holders: ['h2'] },
    ],
    answering: [{ t: 100, answering: ['h1'] }],
    events: [
      { node: 'h1', time: new Date(1008).toISOString(), kind: 'transition', service: 'redis', from: 'running', to: 'starting', reason: 'killed by SIGKILL' },
      { node: 'h2', time: new Date(5001).toISOString(), kind: 'mirror', service: 'redis', reason: 'background' },
      { node: 'h2', time: new Date(5300).toISOString(), kind: 'failover', from: 'standby', to: 'candidate', reason: 'candidate' },
    ],
    stopGraceMs: 1000,
    acked: new Map([
      [1, 950],
      [2, 1450],
      [3, 4995],
      [4, 5015],
      [5, 6200],
    ]),
    readBack: new Map([
      [1, 'v1'],
      [2, 'v2'],
      [3, null],
      [4, null],
      [5, 'v5'],
    ]),
    readBackFrom: 'h2',
  });

  it('puts each lost acknowledged write down to the fault it preceded or fell in', () => {
    const r = campaignReport(input());
    expect(r.writes).toEqual({ acknowledged: 5, lost: 2, lostByKind: { partition: 2 } });
    expect(r.lost.map((l) => [l.key, l.kind, l.msBeforeFault])).toEqual([
      [3, 'partition', 5],
      [4, 'partition', -15],
    ]);
    expect(r.perFault.map((f) => f.lostWrites)).toEqual([0, 2]);
    expect(r.lost.every((l) => l.failoverAt === new Date(5200).toISOString())).toBe(true);
  });

  it('lists every move of the VIP, with the fault that explains it (none: a failover nobody asked for)', () => {
    const i = input();
    i.vip.push({ t: 9000, holders: [] }, { t: 9100, holders: ['h1'] });
    i.acked.set(6, 8500);
    i.readBack.set(6, null);
    const r = campaignReport(i);
    expect(r.failovers).toEqual([
      { at: new Date(5200).toISOString(), from: 'h1', to: 'h2', fault: 1 },
      { at: new Date(9100).toISOString(), from: 'h2', to: 'h1', fault: null },
    ]);
    expect(r.lost.find((l) => l.key === 6)).toMatchObject({ failoverAt: new Date(9100).toISOString(), fault: null, kind: null });
    expect(campaignSvg(i, r, ['h1', 'h2', 'h3'])).toContain('failover, no fault (→ h1)');
  });

  it('times detection from the first journal event about the fault (not background copies) and recovery from the client', () => {
    const [crash, partition] = campaignReport(input()).perFault;
    expect(crash).toMatchObject({ detectMs: 8, recoveryMs: 450, outageMs: 400, failedCommands: 1, movedTo: null });
    expect(partition).toMatchObject({ detectMs: 300, recoveryMs: 1200, outageMs: 1000, movedTo: 'h2' });
  });

  it('merges samples with two VIP holders into intervals', () => {
    const r = campaignReport(input());
    expect(r.doubleActive.vipSamples).toBe(2);
    expect(r.doubleActive.intervals).toEqual([{ what: 'vip', from: new Date(5200).toISOString(), ms: 20, hosts: ['h1', 'h2'], during: null }]);
  });

  it('names the hand-over two answering redis fell in: the old one stopping after its step-down, or a killed agent\'s keeper at work; nothing else', () => {
    const i = input();
    const stopping = (node: string, t: number, to: string) => ({ node, time: new Date(t).toISOString(), kind: 'transition', service: 'redis', from: 'running', to, reason: 'group g stepped down here' });
    i.faults.push({ ...fault('agent-kill', 8500, 9000), node: 'h2', after: 'h3' });
    i.events.push(stopping('h1', 5150, 'stopping'), stopping('h1', 5290, 'stopped'));
    i.answering = [
      { t: 5100, answering: ['h1'] },
      // h1 stopping, h2 started: a hand-over.
      { t: 5200, answering: ['h1', 'h2'] },
      { t: 5300, answering: ['h2'] },
      // h1 answers again after its redis stopped: two actives.
      { t: 5400, answering: ['h1', 'h2'] },
      { t: 5500, answering: ['h2'] },
      // h2's agent killed at 8500; its keeper has until 9500 to stop redis.
      { t: 8600, answering: ['h2', 'h3'] },
      { t: 8700, answering: ['h2', 'h3'] },
      { t: 8800, answering: ['h3'] },
      { t: 9600, answering: ['h2', 'h3'] },
      { t: 9700, answering: ['h3'] },
    ];
    const answering = campaignReport(i).doubleActive.intervals.filter((x) => x.what === 'answering');
    expect(answering.map((x) => [x.from, x.ms, x.during?.replace(/ .*/, '') ?? null])).toEqual([
      [new Date(5200).toISOString(), 100, 'h1'],
      [new Date(5400).toISOString(), 100, null],
      [new Date(8600).toISOString(), 200, "h2's"],
      [new Date(9600).toISOString(), 100, null],
    ]);
    expect(answering[0]?.during).toBe('h1 was stopping its redis (for 50 ms; group g stepped down here)');
  });

  it('draws the timeline as an SVG inside the page', () => {
    const i = input();
    const r = campaignReport(i);
    const svg = campaignSvg(i, r, ['h1', 'h2', 'h3']);
    expect(svg).toMatch(/^<svg[\s\S]*<\/svg>$/);
    expect(svg).toContain('crash@h1');
    expect(campaignHtml(svg, r)).toContain('<td>partition</td>');
  });
});
