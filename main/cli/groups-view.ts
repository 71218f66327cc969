import type { GroupSummary } from '../../common/wire/failover-status.js';

/** `armory groups` as text: each group's active node, epoch, members, heartbeat health and failover budget. */
export function formatGroups(groups: readonly GroupSummary[]): string[] {
  if (groups.length === 0) return ['no failover groups in the applied configuration'];
  const lines: string[] = [];
  for (const g of groups) {
    const b = g.budget;
    lines.push(`${g.group}: active ${g.activeNode ?? 'NONE'}, epoch ${g.epoch}, services ${g.services.join(', ')}`);
    lines.push(`  failover budget ${b.totalMs} ms = detection ${b.detectMs} + start ${b.startMs} + ARP ${b.arpMs}`);
    for (const m of g.members) lines.push(`  ${m.node.padEnd(12)} ${m.reachable ? (m.state ?? '?').padEnd(14) : 'UNREACHABLE   '} ${[m.ready === false ? 'not ready' : '', m.lagging ? 'copy of the mirrored data lags' : ''].filter(Boolean).join(', ')}`.trimEnd());
    const stale = g.heartbeats.filter((h) => !h.fresh);
    lines.push(stale.length === 0 ? `  heartbeats: all ${g.heartbeats.length} paths fresh` : `  heartbeats: ${stale.map((h) => `${h.from} hears nothing from ${h.to}${h.lastHeardMs !== null ? ` for ${Math.round(h.lastHeardMs)} ms` : ''}`).join('; ')}`);
  }
  return lines;
}
