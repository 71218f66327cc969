/**
 * Checks that span fields: references between sections and fields that need each other. They run
 * on the raw document too, so that they are reported alongside every other problem instead of
 * only after all of those are fixed.
 */
export interface CrossIssue {
  path: (string | number)[];
  message: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const entries = (v: unknown): [string, unknown][] => (isObj(v) ? Object.entries(v) : []);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function crossCheck(doc: unknown): CrossIssue[] {
  if (!isObj(doc)) return [];
  const issues: CrossIssue[] = [];
  const nodes = new Set(entries(doc.nodes).map(([k]) => k));
  const services = new Set(entries(doc.services).map(([k]) => k));
  for (const [name, svc] of entries(doc.services)) {
    if (!isObj(svc)) continue;
    if (svc.watchdog !== undefined && svc.notify !== true) {
      issues.push({ path: ['services', name, 'watchdog'], message: 'a watchdog needs notify: true (the program sends WATCHDOG=1)' });
    }
    const placement = isObj(svc.placement) ? svc.placement : {};
    list(placement.nodes).forEach((n, i) => {
      if (typeof n === 'string' && !nodes.has(n)) issues.push({ path: ['services', name, 'placement', 'nodes', i], message: `unknown node "${n}"` });
    });
    const mirror = isObj(svc.mirror) ? svc.mirror : null;
    const mirrored = mirror !== null && (mirror.standbys !== false || mirror.to !== undefined);
    list(svc.shims).forEach((shim, i) => {
      list(isObj(shim) ? shim.clients : undefined).forEach((n, j) => {
        if (typeof n === 'string' && !nodes.has(n)) issues.push({ path: ['services', name, 'shims', i, 'clients', j], message: `unknown node "${n}"` });
      });
      if (isObj(shim) && shim.waitForMirror === true && !mirrored) {
        issues.push({ path: ['services', name, 'shims', i, 'waitForMirror'], message: 'waitForMirror needs the service to mirror its folders somewhere: mirror with standbys: true or a to folder' });
      }
    });
  }
  for (const [name, g] of entries(doc.groups)) {
    if (!isObj(g)) continue;
    list(g.members).forEach((m, i) => {
      const node = isObj(m) ? m.node : undefined;
      if (typeof node === 'string' && !nodes.has(node)) issues.push({ path: ['groups', name, 'members', i, 'node'], message: `unknown node "${node}"` });
    });
    list(g.services).forEach((s, i) => {
      if (typeof s === 'string' && !services.has(s)) issues.push({ path: ['groups', name, 'services', i], message: `unknown service "${s}"` });
    });
    if (typeof g.witness === 'string' && !nodes.has(g.witness)) issues.push({ path: ['groups', name, 'witness'], message: `unknown node "${g.witness}"` });
  }
  for (const [name, job] of entries(doc.jobs)) {
    if (!isObj(job)) continue;
    list(job.nodes).forEach((n, i) => {
      if (typeof n === 'string' && !nodes.has(n)) issues.push({ path: ['jobs', name, 'nodes', i], message: `unknown node "${n}"` });
    });
  }
  return issues;
}
