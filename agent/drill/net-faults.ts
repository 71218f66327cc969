import { spawn } from 'node:child_process';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { shellQuote } from '../../common/node/shell-quote.js';
import { runCommand, type CommandResult } from '../os/run-command.js';

/** The arguments of one `ip` command: `link set dev eth0 up`, `rule del to 10.0.0.2/32 prohibit pref 90`. */
export type IpArgs = readonly string[];

/**
 * One step of a fault's undo. `guard: 'local-at-0'` runs it only while rule 0 `lookup local` exists:
 * the moved local lookup (pref 100) is removed only once the one at 0 is surely back, so that the
 * node never has no local-table rule at all (it would then not even reach itself on loopback).
 */
export interface UndoStep {
  ip: IpArgs;
  guard?: 'local-at-0';
}

/** Policy-rule preference of a drill's partition rules, and where the local table's lookup moves meanwhile. */
export const PARTITION_RULE_PREF = '90';
export const MOVED_LOCAL_PREF = '100';

/** Runs `ip ARGS`; resolves with how it ended (never rejects). */
export const ip = (args: IpArgs): Promise<CommandResult> => runCommand('ip', args);

/** Runs `ip ARGS` and throws DRILL_E_INJECT when it fails. */
export async function ipOrThrow(args: IpArgs): Promise<void> {
  const r = await ip(args);
  if (r.code !== 0) throw new ArmoryError('DRILL_E_INJECT', `ip ${args.join(' ')} failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
}

/** True when an undo command ended with its work done: it ran, or found it already done (no such rule/route, already exists). */
export const undoDone = (r: CommandResult): boolean => r.code === 0 || /No such file or directory|File exists/.test(r.stderr);

/** True while rule 0 `lookup local` exists (what `ip rule show pref 0 | grep -q 'lookup local'` checks). */
export async function localLookupAtZero(run: (a: IpArgs) => Promise<CommandResult> = ip): Promise<boolean> {
  const r = await run(['rule', 'show', 'pref', '0']);
  return r.code === 0 && /lookup local/.test(r.stdout);
}

/**
 * The rules that cut this node off from its peers' addresses, both ways. `to PEER prohibit` stops
 * what this node sends (also on established connections: a rule change invalidates cached routes).
 * What it receives is routed by the local table, whose lookup is rule 0 and comes before any other:
 * for the duration that lookup moves behind the prohibit rules (to pref 100), so that `from PEER
 * prohibit` refuses the peers' packets too. Clients, at other addresses, still get through. The
 * undo puts the local lookup back at 0 first, then removes the moved one (only if the one at 0 is
 * there) and the prohibit rules.
 */
export function partitionRules(peers: readonly string[]): { add: IpArgs[]; del: UndoStep[] } {
  const cut = peers.flatMap((p) => (['to', 'from'] as const).map((dir) => [dir, `${p}/32`, 'prohibit', 'pref', PARTITION_RULE_PREF] as const));
  return {
    add: [['rule', 'add', 'pref', MOVED_LOCAL_PREF, 'lookup', 'local'], ['rule', 'del', 'pref', '0', 'lookup', 'local'], ...cut.map((r) => ['rule', 'add', ...r])],
    del: [
      { ip: ['rule', 'add', 'pref', '0', 'lookup', 'local'] },
      { ip: ['rule', 'del', 'pref', MOVED_LOCAL_PREF, 'lookup', 'local'], guard: 'local-at-0' },
      ...cut.map((r) => ({ ip: ['rule', 'del', ...r] })),
    ],
  };
}

const INTERFACE_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

/** Throws DRILL_E_INJECT unless `name` can be a Linux interface name (and not be read as an option). */
export function checkInterfaceName(name: string): string {
  if (!INTERFACE_NAME.test(name) || name.startsWith('-')) throw new ArmoryError('DRILL_E_INJECT', `"${name}" is not a network interface name`, { iface: name });
  return name;
}

/** `ip link set dev IFACE down` and its undo. */
export function linkCommands(iface: string): { down: IpArgs; up: IpArgs } {
  checkInterfaceName(iface);
  return { down: ['link', 'set', 'dev', iface, 'down'], up: ['link', 'set', 'dev', iface, 'up'] };
}

/** Route types the kernel derives from addresses (and the local table): never restored by hand. */
const DERIVED_TYPES = new Set(['local', 'broadcast', 'multicast', 'anycast']);
/** Flags `ip route show` prints that `ip route replace` does not take. */
const SHOWN_ONLY_FLAGS = new Set(['linkdown', 'dead', 'offload', 'trap', 'offload_failed', 'rt_offload', 'rt_trap', 'rt_offload_failed', 'notify', 'pervasive']);

/**
 * The `ip [-6] route replace … dev IFACE` commands that put back the routes through IFACE that
 * setting it down flushes and setting it up does not bring back: every route of `ip -o [-6] route
 * show table all dev IFACE` (its v4 and v6 text) but the kernel's own (proto kernel, local,
 * broadcast, multicast, anycast). Multipath routes (nexthop) are left out.
 */
export function routesToRestore(iface: string, v4: string, v6: string): IpArgs[] {
  const out: IpArgs[] = [];
  for (const [family, text] of [[[], v4], [['-6'], v6]] as const) {
    for (const line of text.split('\n')) {
      const words = line.replace(/\\/g, ' ').trim().split(/\s+/).filter((w) => w !== '');
      if (words.length === 0 || DERIVED_TYPES.has(words[0] as string) || /(^|\s)(proto kernel|nexthop)(\s|$)/.test(words.join(' '))) continue;
      const kept: string[] = [];
      for (let i = 0; i < words.length; i++) {
        const w = words[i] as string;
        if (w === 'dev' || w === 'expires') i++;
        else if (!SHOWN_ONLY_FLAGS.has(w)) kept.push(w);
      }
      out.push([...family, 'route', 'replace', ...kept, 'dev', iface]);
    }
  }
  return out;
}

/** The commands that restore IFACE's own routes once it is up again (read now, before it goes down). */
export async function readRoutesToRestore(iface: string): Promise<IpArgs[]> {
  const show = async (family: string) => {
    const r = await ip(['-o', family, 'route', 'show', 'table', 'all', 'dev', iface]);
    if (r.code !== 0) throw new ArmoryError('DRILL_E_INJECT', `cannot read the routes through ${iface}: ${r.stderr.trim() || `exit code ${r.code}`}`, { iface });
    return r.stdout;
  };
  return routesToRestore(iface, await show('-4'), await show('-6'));
}

/** Flags of an IPv6 address that `ip -6 addr replace` takes back; the others are state (tentative, deprecated…). */
const ADDRESS_FLAGS = new Set(['nodad', 'noprefixroute', 'home', 'mngtmpaddr', 'autojoin', 'optimistic']);

/**
 * The `ip -6 addr replace … dev IFACE` commands that put back the static IPv6 addresses setting
 * IFACE down removes (unless keep_addr_on_down is set), from `ip -o -6 addr show dev IFACE
 * permanent scope global`. Link-local addresses are left out (the kernel makes them again), and
 * so are VIPs, which are IPv4 and which failover owns.
 */
export function addressesToRestore(iface: string, v6: string): IpArgs[] {
  const out: IpArgs[] = [];
  for (const line of v6.split('\n')) {
    const words = line.replace(/\\/g, ' ').trim().split(/\s+/);
    const at = words.indexOf('inet6');
    const address = words[at + 1];
    if (at < 0 || address === undefined || !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(address)) continue;
    if (words.includes('link') || /^fe80:/i.test(address)) continue;
    const kept: string[] = [];
    for (let i = at + 2; i < words.length; i++) {
      const w = words[i] as string;
      if (w === 'peer') kept.push(w, words[++i] ?? '');
      else if (ADDRESS_FLAGS.has(w)) kept.push(w);
    }
    out.push(['-6', 'addr', 'replace', address, ...kept, 'dev', iface]);
  }
  return out;
}

/** The commands that restore IFACE's static IPv6 addresses once it is up again (read now, before it goes down). */
export async function readAddressesToRestore(iface: string): Promise<IpArgs[]> {
  const r = await ip(['-o', '-6', 'addr', 'show', 'dev', iface, 'permanent', 'scope', 'global']);
  if (r.code !== 0) throw new ArmoryError('DRILL_E_INJECT', `cannot read the addresses of ${iface}: ${r.stderr.trim() || `exit code ${r.code}`}`, { iface });
  return addressesToRestore(iface, r.stdout);
}

/** The shell line of one undo step in the restorer (failures are quiet: it is the backstop). */
export function restorerLine(step: UndoStep): string {
  const cmd = `ip ${step.ip.map(shellQuote).join(' ')} 2>/dev/null`;
  return step.guard === 'local-at-0' ? `{ ip rule show pref 0 | grep -q 'lookup local' && ${cmd}; }` : cmd;
}

/** The restorer's script: wait, then every undo step (failures quiet, `ip rule show` guarding the moved local lookup). */
export const restorerScript = (afterMs: number, undo: readonly UndoStep[]): string => [`sleep ${(afterMs / 1000).toFixed(3)}`, ...undo.map(restorerLine), 'exit 0'].join('; ');

/**
 * Arms a restorer that outlives the agent: a detached `sh -c 'sleep N; ip …; ip …'` in this
 * node's network namespace, so a link or a partition is undone even if the agent dies meanwhile.
 */
export function armRestorer(afterMs: number, undo: readonly UndoStep[]): void {
  const child = spawn('/bin/sh', ['-c', restorerScript(afterMs, undo)], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
}
