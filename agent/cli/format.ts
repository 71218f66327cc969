import type { AgentEvent, ServiceStatus } from '../../common/wire/service-status.js';

function ago(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

/** A plain text table with columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatStatus(services: readonly ServiceStatus[]): string {
  if (services.length === 0) return 'no services configured';
  return table(
    ['NAME', 'STATE', 'READY', 'PID', 'UPTIME', 'RESTARTS', 'REASON'],
    services.map((s) => [
      s.name,
      s.state === 'backing-off' && s.nextRestartMs !== null ? `backing-off (${Math.ceil(s.nextRestartMs / 100) / 10}s)` : s.state,
      s.ready ? 'yes' : 'no',
      s.pid === null ? '-' : String(s.pid),
      ago(s.uptimeMs),
      String(s.restarts),
      s.reason.split('\n')[0] ?? '',
    ]),
  );
}

export function formatEvent(e: AgentEvent): string {
  const what = e.from !== undefined && e.to !== undefined ? `${e.from} → ${e.to}: ` : '';
  return `${e.time}  #${e.seq}  ${(e.service ?? '(agent)').padEnd(12)} ${e.kind.padEnd(10)} ${what}${e.reason}`;
}
