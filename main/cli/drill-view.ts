import type { DrillReport } from '../../common/wire/drill.js';

const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);
const at = (v: number) => `${v >= 0 ? '+' : ''}${v} ms`.padStart(10);

/** `armory drill --list` as text: one line per kept report, newest first. */
export function formatDrillList(reports: readonly DrillReport[]): string[] {
  if (reports.length === 0) return ['no drill has been run yet (armory drill SERVICE --fault kill)'];
  return reports.map((r) => `${r.id}  ${r.faultAt.slice(0, 19).replace('T', ' ')}  ${r.service.padEnd(14)} ${r.fault.padEnd(10)} ${r.verdict.padEnd(14)} outage ${ms(r.outageMs).padEnd(9)} recovery ${ms(r.recoveryMs)}`);
}

/** `armory drill … / --show ID` as text: the figures, the budget, and the timeline of probes and events. */
export function formatDrillReport(r: DrillReport): string[] {
  const lines = [
    `drill ${r.id}: ${r.fault} on ${r.service}${r.group ? ` (group ${r.group})` : ''}${r.forced ? ', forced' : ''}`,
    `  node       ${r.nodeBefore} → ${r.nodeAfter ?? 'not recovered'}`,
    `  detection  ${ms(r.detectionMs)}   (fault → first failure, step-down or takeover in a journal)`,
    `  recovery   ${ms(r.recoveryMs)}   (fault → the service running again)`,
    `  outage     ${ms(r.outageMs)}   (client-observed at ${r.probe.target}: ${r.failedProbes} of ${r.totalProbes} probes failed)`,
    r.budget ? `  budget     ${r.budget.totalMs} ms = detection ${r.budget.detectMs} + start ${r.budget.startMs} + ARP ${r.budget.arpMs}` : '  budget     none (the service is in no failover group)',
    `  verdict    ${r.verdict}`,
    ...r.notes.map((n) => `  note: ${n}`),
    '  timeline (ms from the fault):',
  ];
  const rows: { t: number; text: string }[] = [
    ...r.probes.map((p) => ({ t: p.fromMs, text: `probe ${p.ok ? 'ok    ' : 'FAILED'} ×${p.count} until ${at(p.toMs).trim()}` })),
    ...r.events.map((e) => ({ t: e.atMs, text: `${e.role === 'other' ? '' : `[${e.role}] `}${e.node}: ${e.kind}: ${e.reason.split('\n')[0] ?? ''}` })),
  ].sort((a, b) => a.t - b.t);
  for (const row of rows) lines.push(`  ${at(row.t)}  ${row.text}`);
  return lines;
}
