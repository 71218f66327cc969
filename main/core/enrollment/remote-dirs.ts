import { shellQuote } from '../../../common/node/shell-quote.js';

/**
 * A script that creates `dir` and its missing parents and prints every folder it created, one a
 * line, topmost first: what an undo has to take away again to leave the host as it was.
 */
export function makeDirScript(dir: string, mode: string): string {
  return [
    `t=${shellQuote(dir)}; d="$t"; made=""; i=0`,
    'while [ ! -e "$d" ] && [ $i -lt 64 ]; do made="$d',
    '$made"; d=$(dirname "$d"); i=$((i+1)); done',
    `mkdir -p "$t" && chmod ${mode} "$t" || exit 1`,
    'printf "%s" "$made"',
  ].join('\n');
}

/** The folders makeDirScript reported, topmost first. */
export function parseMadeDirs(output: string): string[] {
  return output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('/'));
}

/** A script that removes each folder that is empty, deepest first; a folder that holds anything stays. */
export function removeEmptyDirsScript(dirs: readonly string[]): string {
  const deepestFirst = [...new Set(dirs)].sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
  if (deepestFirst.length === 0) return 'true';
  return `for d in ${deepestFirst.map(shellQuote).join(' ')}; do rmdir "$d" 2>/dev/null || true; done`;
}
