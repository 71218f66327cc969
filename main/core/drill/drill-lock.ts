import fs from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../../common/errors/armory-error.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * One drill at a time per manager home, also across processes (the CLI and the desktop app): a
 * lock file made exclusively, holding the pid and what runs; one whose process is gone is taken over.
 */
export function takeDrillLock(dir: string, what: string): { release(): void } {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'running.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      fs.writeFileSync(file, `${process.pid} ${what}\n`, { flag: 'wx', mode: 0o600 });
      return { release: () => fs.rmSync(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const [pid, ...rest] = (fs.readFileSync(file, 'utf8').trim() || '0').split(' ');
      if (alive(Number(pid))) throw new ArmoryError('DRILL_E_BUSY', `a drill is already running (${rest.join(' ') || 'unknown'}, pid ${pid}); wait for its report`);
      fs.rmSync(file, { force: true });
    }
  }
  throw new ArmoryError('DRILL_E_BUSY', 'another drill took the lock just now');
}
