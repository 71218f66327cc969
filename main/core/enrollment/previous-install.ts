import { parseProcesses, findProcessesFunction, type AgentProcess } from './agent-processes.js';
import { parseInstallManifest, type InstallManifest } from './install-manifest.js';
import type { RemoteLayout } from './remote-layout.js';
import { UNIT_NAME } from './remote-layout.js';
import { shellQuote } from '../../../common/node/shell-quote.js';
import { unitControl, type UnitScope } from './systemd-unit.js';

/** What an earlier enrollment left on a host: its manifest, its running processes, its unit. */
export interface PreviousInstall {
  readonly manifest: InstallManifest | null;
  /** Running keeper and agent, each with its full command line (to start it again after a failed re-enrollment). */
  readonly processes: readonly (AgentProcess & { readonly argv: readonly string[] })[];
  /** The agent's unit is active (only looked at where there is a unit manager to ask). */
  readonly unitActive: boolean;
}

/** Run with the installation's privilege: prints `manifest=HEX`, `proc=PID ROLE HEX-ARGV` lines and `unit=STATE` (`unit`: which manager to ask, if any). */
export function inspectScript(layout: RemoteLayout, unit: UnitScope | null): string {
  const hex = (file: string) => `od -An -tx1 -v ${file} 2>/dev/null | tr -d ' \\n'`;
  return [
    findProcessesFunction(layout.agentScript, layout.stateDir),
    `if [ -r ${shellQuote(layout.manifestFile)} ]; then echo "manifest=$(${hex(shellQuote(layout.manifestFile))})"; fi`,
    `armory_pids | while read -r pid role; do echo "proc=$pid $role $(${hex('"/proc/$pid/cmdline"')})"; done`,
    unit ? `echo "unit=$(${unitControl(unit).systemctl} is-active ${UNIT_NAME} 2>/dev/null)"` : 'echo unit=none',
    'exit 0',
  ].join('\n');
}

const fromHex = (hex: string): string => (/^(?:[0-9a-f]{2})*$/.test(hex) ? Buffer.from(hex, 'hex').toString('utf8') : '');

export function parseInspection(output: string): PreviousInstall {
  let manifest: InstallManifest | null = null;
  const processes: (AgentProcess & { argv: string[] })[] = [];
  let unitActive = false;
  for (const line of output.split('\n')) {
    if (line.startsWith('manifest=')) manifest = parseInstallManifest(fromHex(line.slice('manifest='.length)));
    else if (line.startsWith('proc=')) {
      const [pid = '', role = '', hex = ''] = line.slice('proc='.length).split(' ');
      const [p] = parseProcesses(`${pid} ${role}`);
      const argv = fromHex(hex).split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
      if (p && argv.length > 0) processes.push({ ...p, argv });
    } else if (line.startsWith('unit=')) unitActive = line.slice('unit='.length).trim() === 'active';
  }
  return Object.freeze({ manifest, processes: Object.freeze(processes), unitActive });
}
