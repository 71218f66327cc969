import type { ServiceState } from '../../../common/wire/service-status.js';

/** The tray icon's colours: green, amber, red, and grey before anything is known. */
export const TRAY_LEVELS = ['unknown', 'ok', 'warning', 'error'] as const;
export type TrayLevel = (typeof TRAY_LEVELS)[number];

/** What the tray needs of a node's status (a subset of the bridge's NodeStatusView). */
export interface TrayNodeInput {
  readonly node: string;
  readonly reachable: boolean;
  readonly services: readonly { readonly name: string; readonly state: ServiceState; readonly desired: 'up' | 'down'; readonly ready: boolean }[];
}

export interface TrayState {
  readonly level: TrayLevel;
  /** The tooltip: what is worst, in a few words. */
  readonly tooltip: string;
  /** `node/service` (or `node`) of what makes it so, worst first; at most 5. */
  readonly worst: readonly string[];
}

const RANK: Record<TrayLevel, number> = { unknown: 0, ok: 1, warning: 2, error: 3 };

/**
 * One service's colour. Red: it should run and does not, and Armory stopped trying (failed).
 * Amber: Armory is at it (starting, backing off, stopping to restart, running but not ready yet,
 * handed to another node). Green: running and ready, or stopped because it was asked to.
 */
export function serviceLevel(s: TrayNodeInput['services'][number]): Exclude<TrayLevel, 'unknown'> {
  switch (s.state) {
    case 'failed':
      return s.desired === 'up' ? 'error' : 'ok';
    case 'escalated':
    case 'backing-off':
    case 'starting':
      return 'warning';
    case 'stopping':
      return s.desired === 'up' ? 'warning' : 'ok';
    case 'running':
      return s.ready ? 'ok' : 'warning';
    case 'stopped':
      return s.desired === 'up' ? 'warning' : 'ok';
  }
}

/**
 * The tray's state: the worst of every service on every node. A node whose agent does not answer
 * is red, since nothing is known of its services (they keep running under their agent, but the
 * manager cannot tell). No nodes at all is grey, with what to do next.
 */
export function trayState(nodes: readonly TrayNodeInput[] | null): TrayState {
  if (nodes === null) return { level: 'unknown', tooltip: 'Armory: connecting…', worst: [] };
  if (nodes.length === 0) return { level: 'unknown', tooltip: 'Armory: no nodes yet — open Armory to protect a program', worst: [] };
  const found: { level: TrayLevel; what: string; why: string }[] = [];
  let total = 0;
  for (const n of nodes) {
    if (!n.reachable) {
      found.push({ level: 'error', what: n.node, why: 'agent not answering' });
      continue;
    }
    for (const s of n.services) {
      total += 1;
      const level = serviceLevel(s);
      if (level !== 'ok') found.push({ level, what: `${n.node}/${s.name}`, why: s.state === 'running' ? 'not ready' : s.state });
    }
  }
  if (found.length === 0) return { level: 'ok', tooltip: `Armory: all ${total} service${total === 1 ? '' : 's'} OK`, worst: [] };
  found.sort((a, b) => RANK[b.level] - RANK[a.level] || a.what.localeCompare(b.what));
  const top = found[0] as (typeof found)[number];
  const more = found.length > 1 ? ` (+${found.length - 1} more)` : '';
  return { level: top.level, tooltip: `Armory: ${top.what} ${top.why}${more}`, worst: found.slice(0, 5).map((f) => f.what) };
}
