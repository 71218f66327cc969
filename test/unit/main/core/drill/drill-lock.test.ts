import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import type { ArmoryError } from '../../../../../common/errors/armory-error.js';
import { processStart, takeDrillLock } from '../../../../../main/core/drill/drill-lock.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-lock-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const busy = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as ArmoryError).code;
  }
  return 'taken';
};

const lockFiles = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith('.lock')).sort();

describe('takeDrillLock', () => {
  it('lets one drill run at a time and the next one after release', () => {
    const dir = tempDir();
    const a = takeDrillLock(dir, 'web hang');
    expect(busy(() => takeDrillLock(dir, 'web kill'))).toBe('DRILL_E_BUSY');
    a.release();
    const b = takeDrillLock(dir, 'web kill');
    expect(lockFiles(dir)).toEqual(['running-2.lock']);
    b.release();
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('names what runs in the refusal', () => {
    const dir = tempDir();
    takeDrillLock(dir, 'web partition');
    expect(() => takeDrillLock(dir, 'x')).toThrow(/web partition, pid \d+/);
  });

  it('stores the pid with the process start time', () => {
    const dir = tempDir();
    takeDrillLock(dir, 'web hang');
    const [pid, start] = fs.readFileSync(path.join(dir, 'running-1.lock'), 'utf8').split(' ');
    expect(Number(pid)).toBe(process.pid);
    expect(start).toBe(processStart(process.pid));
    expect(start).toMatch(/^\d+$/);
  });

  it('takes over a lock whose pid exists but names a process started at another time (a pid reused after a reboot)', () => {
    const dir = tempDir();
    const start = Number(processStart(1));
    fs.writeFileSync(path.join(dir, 'running-4.lock'), `1 ${start + 1} n web hang\n`);
    fs.writeFileSync(path.join(dir, 'running-5.lock'), `${process.pid} ${Number(processStart(process.pid)) + 7} n web kill\n`);
    const lock = takeDrillLock(dir, 'web kill');
    expect(lockFiles(dir)).toEqual(['running-6.lock']);
    lock.release();
  });

  it('takes over a lock of a dead pid, and a garbled one', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'running-1.lock'), `999999999 1 n web hang\n`);
    takeDrillLock(dir, 'a').release();
    fs.writeFileSync(path.join(dir, 'running-9.lock'), '');
    takeDrillLock(dir, 'b').release();
    expect(lockFiles(dir)).toEqual(['running-10.lock']);
  });

  it('with two contenders on a stale lock, only one gets it', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'running-1.lock'), `1 ${Number(processStart(1)) + 1} n web hang\n`);
    let second: { release(): void } | undefined;
    // A saw the stale lock; before it claims, B sees the same stale lock and takes over first.
    const first = busy(() =>
      takeDrillLock(dir, 'A', {
        beforeClaim: () => {
          if (!second) second = takeDrillLock(dir, 'B');
        },
      }),
    );
    expect(second).toBeDefined();
    expect(first).toBe('DRILL_E_BUSY');
    expect(fs.readFileSync(path.join(dir, 'running-2.lock'), 'utf8')).toMatch(/ B\n$/);
    second?.release();
  });

  it('a contender that read an old state cannot take a lock another holds now', () => {
    const dir = tempDir();
    let holder: { release(): void } | undefined;
    // A saw no lock; meanwhile B runs and ends (generation 1), then C takes generation 2 and holds it.
    const first = busy(() =>
      takeDrillLock(dir, 'A', {
        beforeClaim: () => {
          if (holder) return;
          takeDrillLock(dir, 'B').release();
          holder = takeDrillLock(dir, 'C');
        },
      }),
    );
    expect(first).toBe('DRILL_E_BUSY');
    expect(lockFiles(dir)).toEqual(['running-2.lock']);
    holder?.release();
    // Once C is done, A gets it on its next try.
    takeDrillLock(dir, 'A').release();
  });

  it('a contender whose claim is older than a free newer generation moves past it', () => {
    const dir = tempDir();
    let done = false;
    const lock = takeDrillLock(dir, 'A', {
      beforeClaim: () => {
        if (done) return;
        done = true;
        takeDrillLock(dir, 'B').release();
        takeDrillLock(dir, 'C').release();
      },
    });
    expect(lockFiles(dir)).toEqual(['running-3.lock']);
    expect(fs.readFileSync(path.join(dir, 'running-3.lock'), 'utf8')).toMatch(/ A\n$/);
    lock.release();
  });

  it('across processes: of six contenders racing on a stale lock, exactly one takes it', async () => {
    const dir = tempDir();
    const bundle = path.join(dir, 'lock.mjs');
    await build({ entryPoints: [path.resolve(import.meta.dirname, '../../../../../main/core/drill/drill-lock.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'warning' });
    const locks = path.join(dir, 'drills');
    fs.mkdirSync(locks);
    fs.writeFileSync(path.join(locks, 'running-1.lock'), `1 ${Number(processStart(1)) + 1} n web hang\n`);
    // Each waits for the same moment, tries once, says how it went and holds what it got until killed.
    const script = `import { takeDrillLock } from ${JSON.stringify(bundle)};
const at = Number(process.argv[1]);
while (Date.now() < at) {}
let r;
try { takeDrillLock(${JSON.stringify(locks)}, 'c' + process.pid); r = 'taken'; } catch (e) { r = e.code ?? String(e); }
process.stdout.write(r + '\\n');
setTimeout(() => undefined, 30000);`;
    const at = Date.now() + 1500;
    const children: ChildProcess[] = [];
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, () => {
          const c = spawn(process.execPath, ['--input-type=module', '-e', script, String(at)], { stdio: ['ignore', 'pipe', 'inherit'] });
          children.push(c);
          return new Promise<string>((resolve) => {
            let out = '';
            c.stdout?.on('data', (d: Buffer) => {
              out += d.toString();
              if (out.includes('\n')) resolve(out.trim());
            });
            c.once('exit', () => resolve(out.trim() || 'exited'));
          });
        }),
      );
      expect(results.filter((r) => r === 'taken')).toHaveLength(1);
      expect(results.filter((r) => r !== 'taken').every((r) => r === 'DRILL_E_BUSY')).toBe(true);
      expect(lockFiles(locks)).toHaveLength(1);
    } finally {
      for (const c of children) c.kill('SIGKILL');
    }
  }, 20_000);
});
