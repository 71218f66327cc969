import { shellQuote } from '../../../common/node/shell-quote.js';

/** One process of an installation: the keeper or the agent it runs. */
export interface AgentProcess {
  readonly pid: number;
  readonly role: 'keeper' | 'agent';
}

/**
 * A shell function `armory_pids` that prints `PID ROLE` for each process of this installation: a
 * process whose arguments include the agent script *and* the state directory, each as a whole
 * argument. Only /proc is read, so it finds a keeper started at boot by cron as well.
 */
export function findProcessesFunction(agentScript: string, stateDir: string): string {
  return [
    'armory_pids() {',
    // One grep over every command line narrows the search; the exact checks run on the few it finds.
    `  for f in $(grep -laF -- ${shellQuote(agentScript)} /proc/[0-9]*/cmdline 2>/dev/null); do`,
    '    p=${f%/cmdline}; n=${p#/proc/}; [ "$n" = "$$" ] && continue',
    `    a=$(tr '\\0' '\\n' < "$f" 2>/dev/null) || continue`,
    `    printf '%s\\n' "$a" | grep -qxF -- ${shellQuote(agentScript)} || continue`,
    `    printf '%s\\n' "$a" | grep -qxF -- ${shellQuote(stateDir)} || continue`,
    `    if printf '%s\\n' "$a" | grep -qxF -- keeper; then echo "$n keeper"; else echo "$n agent"; fi`,
    '  done',
    '}',
  ].join('\n');
}

export function parseProcesses(output: string): AgentProcess[] {
  const found: AgentProcess[] = [];
  for (const line of output.split('\n')) {
    const m = /^(\d+) (keeper|agent)$/.exec(line.trim());
    if (m) found.push({ pid: Number(m[1]), role: m[2] as AgentProcess['role'] });
  }
  return found;
}

/** Lists the installation's processes. */
export function listProcessesScript(agentScript: string, stateDir: string): string {
  return `${findProcessesFunction(agentScript, stateDir)}\narmory_pids`;
}

/**
 * Stops the keeper and the agent. The keeper gets SIGTERM and passes it on to its agent, which lets
 * go of its programs (they keep running) and exits; an agent without a keeper gets SIGTERM itself
 * half-way through the grace period (never two at once: a second SIGTERM during its orderly exit
 * would kill it before it saved its journal). Whatever is left at the end of `graceMs` gets SIGKILL.
 */
export function stopProcessesScript(agentScript: string, stateDir: string, graceMs: number): string {
  const rounds = Math.max(2, Math.ceil(graceMs / 100));
  return [
    findProcessesFunction(agentScript, stateDir),
    'found=$(armory_pids)',
    '[ -z "$found" ] && exit 0',
    // A process that ended but was not reaped yet (a zombie: where PID 1 reaps slowly) counts as gone.
    'alive() { s=$(sed "s/.*) //" "/proc/$1/stat" 2>/dev/null | cut -d" " -f1); [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]; }',
    'all=$(printf "%s\\n" "$found" | cut -d" " -f1)',
    'keepers=$(printf "%s\\n" "$found" | grep " keeper$" | cut -d" " -f1)',
    'agents=$(printf "%s\\n" "$found" | grep " agent$" | cut -d" " -f1)',
    'if [ -n "$keepers" ]; then kill -TERM $keepers 2>/dev/null; else kill -TERM $agents 2>/dev/null; agents=""; fi',
    `i=0; while [ $i -lt ${rounds} ]; do`,
    '  left=""; for p in $all; do alive "$p" && left="$left $p"; done',
    '  [ -z "$left" ] && exit 0',
    `  if [ $i -eq ${Math.floor(rounds / 2)} ] && [ -n "$agents" ]; then for p in $agents; do alive "$p" && kill -TERM "$p" 2>/dev/null; done; fi`,
    '  sleep 0.1; i=$((i+1))',
    'done',
    'kill -KILL $left 2>/dev/null',
    'echo "killed:$left"',
    'exit 0',
  ].join('\n');
}

/** The keeper's command line: it runs `agent run` with the same options and restarts it when it dies. */
export function keeperCommand(nodePath: string, agentScript: string, listen: string, stateDir: string): string[] {
  return [nodePath, agentScript, 'keeper', '--listen', listen, '--state-dir', stateDir];
}

/**
 * Starts the keeper detached from the SSH session (its own session through setsid where there is
 * one, nohup, stdin from /dev/null, output appended to the log), so that the SSH channel closes at
 * once and ending the session ends nothing.
 */
export function startKeeperScript(command: readonly string[], logFile: string): string {
  return [
    'cd / || exit 1',
    'if command -v setsid >/dev/null 2>&1; then set -- setsid; else set --; fi',
    `nohup "$@" ${command.map(shellQuote).join(' ')} >>${shellQuote(logFile)} 2>&1 </dev/null &`,
    'echo "$!"',
  ].join('\n');
}
