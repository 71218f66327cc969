import { SERVICE_STATES, type ServiceStatus } from './service-status.js';

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
