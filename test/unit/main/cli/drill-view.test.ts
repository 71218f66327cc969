import { describe, expect, it } from 'vitest';
import type { DrillReport } from '../../../../common/wire/drill.js';
import { formatDrillList, formatDrillReport } from '../../../../main/cli/drill-view.js';

const report: DrillReport = {
  id: '20261123-101500000-abc123',
  service: 'web',
  group: 'g',
  fault: 'link-down',
  forced: false,
  durationMs: 3000,
  startedAt: '2026-11-23T10:15:00.000Z',
  faultAt: '2026-11-23T10:15:00.400Z',
  endedAt: '2026-11-23T10:15:05.000Z',
  probe: { target: '198.18.0.100:8080', everyMs: 10 },
  nodeBefore: 'h1',
  nodeAfter: 'h2',
  detectionMs: 310,
  recoveryMs: 720,
  outageMs: 700,
  failedProbes: 70,
  totalProbes: 460,
  budget: { detectMs: 400, startMs: 300, arpMs: 20, totalMs: 720 },
  verdict: 'within-budget',
  summary: 'drill link-down on web: moved h1 → h2',
  notes: [],
  probes: [
    { fromMs: -300, toMs: 0, ok: true, count: 31 },
    { fromMs: 10, toMs: 700, ok: false, count: 70 },
  ],
  events: [{ atMs: 310, node: 'h2', kind: 'failover', reason: 'standby → candidate: group g: h1 silent', role: 'detection' }],
};

describe('armory drill output', () => {
  it('shows the figures, the budget and the verdict, then the timeline in time order', () => {
    const lines = formatDrillReport(report);
    expect(lines[0]).toBe('drill 20261123-101500000-abc123: link-down on web (group g)');
    expect(lines).toContain('  node       h1 → h2');
    expect(lines).toContain('  outage     700 ms   (client-observed at 198.18.0.100:8080: 70 of 460 probes failed)');
    expect(lines).toContain('  budget     720 ms = detection 400 + start 300 + ARP 20');
    expect(lines).toContain('  verdict    within-budget');
    const timeline = lines.slice(lines.indexOf('  timeline (ms from the fault):') + 1);
    expect(timeline.map((l) => l.replace(/^\s*[+-]?\d+ ms {2}/, ''))).toEqual(['probe ok     ×31 until +0 ms', 'probe FAILED ×70 until +700 ms', '[detection] h2: failover: standby → candidate: group g: h1 silent']);
  });

  it('lists kept drills one per line, and says how to run one when there is none', () => {
    expect(formatDrillList([report])[0]).toMatch(/^20261123-101500000-abc123 {2}2026-11-23 10:15:00 {2}web +link-down +within-budget +outage 700 ms +recovery 720 ms$/);
    expect(formatDrillList([])).toEqual(['no drill has been run yet (armory drill SERVICE --fault kill)']);
    expect(formatDrillReport({ ...report, budget: null, verdict: 'no-budget', nodeAfter: null })).toContain('  budget     none (the service is in no failover group)');
  });
});
