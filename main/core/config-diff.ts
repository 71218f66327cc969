import type { ArmoryConfig } from '../../common/config/document.js';

export interface ConfigDiff {
  added: string[];
  removed: string[];
  changed: string[];
  nodesAdded: string[];
  nodesRemoved: string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** What applying `next` over `prev` changes, by service and node name (shown before a change is signed). */
export function diffConfigs(prev: ArmoryConfig | null, next: ArmoryConfig): ConfigDiff {
  const ps = prev?.services ?? {};
  const pn = prev?.nodes ?? {};
  return {
    added: Object.keys(next.services).filter((n) => !(n in ps)),
    removed: Object.keys(ps).filter((n) => !(n in next.services)),
    changed: Object.keys(next.services).filter((n) => n in ps && !same(ps[n], next.services[n])),
    nodesAdded: Object.keys(next.nodes).filter((n) => !(n in pn)),
    nodesRemoved: Object.keys(pn).filter((n) => !(n in next.nodes)),
  };
}

export function formatDiff(d: ConfigDiff): string {
  const lines = [
    ...d.added.map((n) => `+ service ${n}`),
    ...d.removed.map((n) => `- service ${n}`),
    ...d.changed.map((n) => `~ service ${n}`),
    ...d.nodesAdded.map((n) => `+ node ${n}`),
    ...d.nodesRemoved.map((n) => `- node ${n}`),
  ];
  return lines.length > 0 ? lines.join('\n') : '(no changes)';
}
