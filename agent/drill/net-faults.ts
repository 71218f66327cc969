import { execFile, spawn } from 'node:child_process';
import { ArmoryError } from '../../common/errors/armory-error.js';

/** One `ip` command that undoes part of a fault: `ip link set eth0 up`, `ip rule del to 10.0.0.2/32 prohibit pref 90`. */
export type IpArgs = readonly string[];

/** Policy-rule preference of a drill's partition rules: before the main table (32766), after local (0). */
export const PARTITION_RULE_PREF = '90';

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
 * The rules that cut this node off from one peer address, both ways: `to` stops what this node
 * sends (also on established connections: a rule change invalidates cached routes), `from` stops
 * what it receives (the input route lookup is refused). Clients, at other addresses, still get through.
 */
export function partitionRules(peer: string): { add: IpArgs[]; del: IpArgs[] } {
  const dirs = [
    ['to', `${peer}/32`],
    ['from', `${peer}/32`],
  ] as const;
  return {
    add: dirs.map(([d, a]) => ['rule', 'add', d, a, 'prohibit', 'pref', PARTITION_RULE_PREF]),
    del: dirs.map(([d, a]) => ['rule', 'del', d, a, 'prohibit', 'pref', PARTITION_RULE_PREF]),
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
