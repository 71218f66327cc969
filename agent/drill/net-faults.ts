import { execFile, spawn } from 'node:child_process';
import { ArmoryError } from '../../common/errors/armory-error.js';

/** One `ip` command that undoes part of a fault: `ip link set eth0 up`, `ip rule del to 10.0.0.2/32 prohibit pref 90`. */
export type IpArgs = readonly string[];

/** Policy-rule preference of a drill's partition rules, and where the local table's lookup moves meanwhile. */
export const PARTITION_RULE_PREF = '90';
export const MOVED_LOCAL_PREF = '100';

/** Runs `ip ARGS`; resolves with its exit code and stderr (never rejects). */
export function ip(args: IpArgs): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', [...args], { timeout: 5000 }, (err, _stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : 1) : 0;
      resolve({ code, stderr: String(stderr) });
    });
  });
}

/** Runs `ip ARGS` and throws DRILL_E_INJECT when it fails. */
export async function ipOrThrow(args: IpArgs): Promise<void> {
  const r = await ip(args);
  if (r.code !== 0) throw new ArmoryError('DRILL_E_INJECT', `ip ${args.join(' ')} failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
}

/**
 * The rules that cut this node off from its peers' addresses, both ways. `to PEER prohibit` stops
 * what this node sends (also on established connections: a rule change invalidates cached routes).
 * What it receives is routed by the local table, whose lookup is rule 0 and comes before any other:
 * for the duration that lookup moves behind the prohibit rules (to pref 100), so that `from PEER
 * prohibit` refuses the peers' packets too. Clients, at other addresses, still get through. The
 * undo puts the local lookup back at 0 first, then removes the moved one and the prohibit rules.
 */
export function partitionRules(peers: readonly string[]): { add: IpArgs[]; del: IpArgs[] } {
  const cut = peers.flatMap((p) =>
    (['to', 'from'] as const).map((dir) => [dir, `${p}/32`, 'prohibit', 'pref', PARTITION_RULE_PREF] as const),
  );
  return {
    add: [['rule', 'add', 'pref', MOVED_LOCAL_PREF, 'lookup', 'local'], ['rule', 'del', 'pref', '0', 'lookup', 'local'], ...cut.map((r) => ['rule', 'add', ...r])],
    del: [['rule', 'add', 'pref', '0', 'lookup', 'local'], ['rule', 'del', 'pref', MOVED_LOCAL_PREF, 'lookup', 'local'], ...cut.map((r) => ['rule', 'del', ...r])],
  };
}

/** `ip link set IFACE down` and its undo. */
export const linkCommands = (iface: string): { down: IpArgs; up: IpArgs } => ({ down: ['link', 'set', iface, 'down'], up: ['link', 'set', iface, 'up'] });

const shellQuote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

/**
 * Arms a restorer that outlives the agent: a detached `sh -c 'sleep N; ip …; ip …'` in this
 * node's network namespace, so a link or a partition is undone even if the agent dies meanwhile.
 * Commands that find nothing to undo fail quietly.
 */
export function armRestorer(afterMs: number, undo: readonly IpArgs[]): void {
  const script = [`sleep ${(afterMs / 1000).toFixed(3)}`, ...undo.map((a) => `ip ${a.map(shellQuote).join(' ')} 2>/dev/null`)].join('; ');
  const child = spawn('/bin/sh', ['-c', `${script}; exit 0`], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
}
