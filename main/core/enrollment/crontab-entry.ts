import { shellQuote } from '../../../common/node/shell-quote.js';

/** The comment that marks Armory's line in root's crontab; it names the state directory, so that installations never touch each other's line. */
export function crontabMarker(stateDir: string): string {
  return `# armory-agent ${stateDir}`;
}

/** The @reboot line that starts the keeper when a host without systemd boots. Paths are plain (checked by remoteLayout): no `%` reaches cron. */
export function crontabLine(keeperCommand: readonly string[], logFile: string, stateDir: string): string {
  return `@reboot cd / && ${keeperCommand.map(shellQuote).join(' ')} >>${shellQuote(logFile)} 2>&1 ${crontabMarker(stateDir)}`;
}

/** Replaces Armory's line for this state directory (if any) with `line`; every other line stays as it was. */
export function addCrontabLineScript(line: string, stateDir: string): string {
  return [
    'f=$(mktemp) || exit 1',
    `{ crontab -l 2>/dev/null | grep -vF -- ${shellQuote(crontabMarker(stateDir))}; printf '%s\\n' ${shellQuote(line)}; } > "$f"`,
    'crontab "$f"; r=$?; rm -f "$f"; exit $r',
  ].join('\n');
}

/** Puts back the crontab read before (stdin), or removes root's crontab when it had none. */
export function restoreCrontabScript(hadCrontab: boolean): string {
  return hadCrontab ? 'crontab -' : 'crontab -r 2>/dev/null; exit 0';
}

/** Takes out Armory's line for this state directory; a crontab left empty is removed. */
export function removeCrontabLineScript(stateDir: string): string {
  return [
    'crontab -l >/dev/null 2>&1 || exit 0',
    'f=$(mktemp) || exit 1',
    `crontab -l 2>/dev/null | grep -vF -- ${shellQuote(crontabMarker(stateDir))} > "$f"`,
    'if grep -q "[^[:space:]]" "$f"; then crontab "$f"; r=$?; else crontab -r; r=$?; fi',
    'rm -f "$f"; exit $r',
  ].join('\n');
}
