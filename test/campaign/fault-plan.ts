import { seededRandom } from '../helpers/seeded-random.js';

/** The faults the campaign injects into the node that runs the service. */
export const FAULT_KINDS = ['crash', 'hang', 'agent-kill', 'link-down', 'partition', 'disk-full'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What each fault does, for the report. */
export const FAULT_TEXT: Record<FaultKind, string> = {
  crash: 'SIGKILL of redis-server on the active node',
  hang: 'SIGSTOP of redis-server on the active node (SIGCONT once recovered, if it is still there)',
  'agent-kill': 'SIGKILL of the agent of the active node (the keeper restarts it)',
  'link-down': "the active node's cable down (ip link set down), then up again",
  partition: 'the active node cut from the other members (blackhole routes both ways), not from the client, then mended',
  'disk-full': "the active node's data folder (a size-limited tmpfs) filled up, then freed; the node is then made available for failover again, as an operator would",
};

/**
 * `count` faults drawn from `kinds`: rounds in which every kind comes once, each round in a random
 * order, so that a campaign of at least `kinds.length` faults covers every kind.
 */
export function faultPlan(seed: number, count: number, kinds: readonly FaultKind[] = FAULT_KINDS): FaultKind[] {
  const random = seededRandom(seed);
  const out: FaultKind[] = [];
  while (out.length < count) {
    const round = [...kinds];
    for (let i = round.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [round[i], round[j]] = [round[j] as FaultKind, round[i] as FaultKind];
    }
    out.push(...round.slice(0, count - out.length));
  }
  return out;
}
