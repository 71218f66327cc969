import fs from 'node:fs';

/** Pids of live processes whose environment holds `KEY=value` (needs permission to read their environ). */
export function findProcessesByEnv(key: string, value: string): number[] {
  const needle = Buffer.from(`${key}=${value}\0`);
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let env: Buffer;
    try {
      env = fs.readFileSync(`/proc/${entry}/environ`);
    } catch {
      continue;
    }
    if (env.indexOf(needle) === 0 || env.indexOf(Buffer.concat([Buffer.from([0]), needle])) !== -1) found.push(Number(entry));
  }
  return found;
}

/** Sends a signal to a whole process group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
