import { SERVICE_STATES, type ServiceStatus } from './service-status.js';
import type { MirrorStatus } from './mirror-wire.js';

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Prometheus text exposition (version 0.0.4) of services' states, readiness and restarts. */
export function serviceMetrics(services: readonly ServiceStatus[], labels: Readonly<Record<string, string>> = {}): string {
  const base = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  const l = (extra: Record<string, string>) => `{${[...base, ...Object.entries(extra).map(([k, v]) => `${k}="${escapeLabel(v)}"`)].join(',')}}`;
  const out: string[] = [];
  out.push('# HELP armory_service_ready 1 when the service is running and passed its readiness checks.', '# TYPE armory_service_ready gauge');
  for (const s of services) out.push(`armory_service_ready${l({ service: s.name })} ${s.ready ? 1 : 0}`);
  out.push('# HELP armory_service_state 1 for the state the service is in.', '# TYPE armory_service_state gauge');
  for (const s of services) for (const st of SERVICE_STATES) out.push(`armory_service_state${l({ service: s.name, state: st })} ${s.state === st ? 1 : 0}`);
  out.push('# HELP armory_service_restarts_total Restarts by the restart policy.', '# TYPE armory_service_restarts_total counter');
  for (const s of services) out.push(`armory_service_restarts_total${l({ service: s.name })} ${s.restarts}`);
  out.push('# HELP armory_service_uptime_seconds Seconds since the program started, when it runs.', '# TYPE armory_service_uptime_seconds gauge');
  for (const s of services) if (s.uptimeMs !== null) out.push(`armory_service_uptime_seconds${l({ service: s.name })} ${(s.uptimeMs / 1000).toFixed(3)}`);
  return `${out.join('\n')}\n`;
}

/** Prometheus text exposition of file mirroring: lag, pending changes and target health per target. */
export function mirrorMetrics(mirrors: readonly MirrorStatus[]): string {
  if (mirrors.length === 0) return '';
  const l = (m: MirrorStatus) => `{service="${escapeLabel(m.service)}",target="${escapeLabel(m.target)}"}`;
  const out: string[] = [];
  out.push('# HELP armory_mirror_lag_seconds Age of the oldest write not yet on the target (0 when caught up).', '# TYPE armory_mirror_lag_seconds gauge');
  for (const m of mirrors) out.push(`armory_mirror_lag_seconds${l(m)} ${(m.lagMs / 1000).toFixed(3)}`);
  out.push('# HELP armory_mirror_pending Changes not yet on the target.', '# TYPE armory_mirror_pending gauge');
  for (const m of mirrors) out.push(`armory_mirror_pending${l(m)} ${m.pending}`);
  out.push('# HELP armory_mirror_target_up 1 when the target can be written to.', '# TYPE armory_mirror_target_up gauge');
  for (const m of mirrors) out.push(`armory_mirror_target_up${l(m)} ${m.up ? 1 : 0}`);
  out.push('# HELP armory_mirror_repaired_total Files the scrub found wrong or missing and repaired.', '# TYPE armory_mirror_repaired_total counter');
  for (const m of mirrors) out.push(`armory_mirror_repaired_total${l(m)} ${m.repaired}`);
  out.push('# HELP armory_mirror_sent_bytes_total Bytes of file content sent to the target.', '# TYPE armory_mirror_sent_bytes_total counter');
  for (const m of mirrors) out.push(`armory_mirror_sent_bytes_total${l(m)} ${m.sentBytes}`);
  out.push('# HELP armory_mirror_resumed_bytes_total Bytes a resumed copy found already on the target and did not send again.', '# TYPE armory_mirror_resumed_bytes_total counter');
  for (const m of mirrors) out.push(`armory_mirror_resumed_bytes_total${l(m)} ${m.resumedBytes}`);
  return `${out.join('\n')}\n`;
}
