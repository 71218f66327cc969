import { spawnSync } from 'node:child_process';

/** root's crontab as `crontab -l` prints it, or null when root has none. */
export function readCrontab(): string | null {
  const r = spawnSync('crontab', ['-l'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : null;
}

/** Puts root's crontab back as it was (a failed test may have left a line in it). */
export function restoreCrontab(before: string | null): void {
  if (readCrontab() === before) return;
  if (before === null) spawnSync('crontab', ['-r']);
  else spawnSync('crontab', ['-'], { input: before });
}
