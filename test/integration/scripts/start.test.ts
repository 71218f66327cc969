import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/agent-harness.js';
import { waitFor } from '../../helpers/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const START = path.join(ROOT, 'scripts/start.js');
const ARMORY = path.join(ROOT, 'bin/armory.js');

let work = '';
let child: ChildProcess | null = null;

/** The environment of a user's shell, less what decides the choice (display, Electron override). */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { DISPLAY: _d, WAYLAND_DISPLAY: _w, ELECTRON_OVERRIDE_DIST_PATH: _e, ...rest } = process.env;
  return { ...rest, ARMORY_HOME: path.join(work, 'home'), ...extra };
}

/** The desktop app never runs as root (Chromium's sandbox): as root, its test runs as `nobody` when this folder lets it. */
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const nobodyCanRun = asRoot && spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(START)})`], { uid: NOBODY, gid: NOBODY }).status === 0;

function start(e: NodeJS.ProcessEnv, args: string[] = [], user: { uid?: number; gid?: number } = {}): { child: ChildProcess; output: () => string } {
  let out = '';
  const c = spawn(process.execPath, [START, ...args], { env: e, stdio: ['ignore', 'pipe', 'pipe'], ...user });
  c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  child = c;
  return { child: c, output: () => out };
}

const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve(c.exitCode) : new Promise<number | null>((r) => c.once('exit', (code) => r(code))));

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    await Promise.race([exited(child), new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  child = null;
  const home = path.join(work, 'home');
  if (fs.existsSync(path.join(home, 'local-agent'))) {
    await new Promise((r) => execFile(process.execPath, [ARMORY, 'node', 'rm', 'local', '--yes'], { env: { ...process.env, ARMORY_HOME: home }, timeout: 30_000 }, r));
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
  work = '';
});

describe('npm start', () => {
  it.skipIf(asRoot && !nobodyCanRun)('runs the desktop app with the Electron binary it finds, on a display, with this folder as the app', async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-start-'));
    fs.chmodSync(work, 0o777);
    const dist = path.join(work, 'electron-dist');
    fs.mkdirSync(dist, { mode: 0o755 });
    const record = path.join(work, 'electron-args');
    fs.writeFileSync(path.join(dist, 'electron'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\nexit 0\n`, { mode: 0o755 });
    const s = start(env({ ELECTRON_OVERRIDE_DIST_PATH: dist, DISPLAY: ':99', HOME: work }), [], asRoot ? { uid: NOBODY, gid: NOBODY } : {});
    expect(await exited(s.child)).toBe(0);
    expect(fs.readFileSync(record, 'utf8').trim()).toBe(ROOT);
    expect(s.output()).toContain('starting the desktop app');
  });

  it.skipIf(!asRoot)('as root, it says why the desktop app is not used (Chromium needs its sandbox off for root)', async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-start-'));
    const dist = path.join(work, 'electron-dist');
    fs.mkdirSync(dist);
    fs.writeFileSync(path.join(dist, 'electron'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    const s = start(env({ ELECTRON_OVERRIDE_DIST_PATH: dist, DISPLAY: ':99' }), ['--help']);
    await exited(s.child);
    expect(s.output()).toContain('the desktop app is not used: it does not run as root with its sandbox on');
  });

  it('without a display, or without an Electron binary, runs the console, prints its address and why', async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-start-'));
    const dist = path.join(work, 'electron-dist');
    fs.mkdirSync(dist);
    fs.writeFileSync(path.join(dist, 'electron'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    const s = start(env({ ELECTRON_OVERRIDE_DIST_PATH: dist }), ['--port', '0', '--agent-port', String(freePort())]);
    const url = await waitFor('the console address', () => /open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(s.output())?.[1] ?? (s.child.exitCode !== null ? Promise.reject(new Error(s.output())) : undefined), {
      timeoutMs: 40_000,
      everyMs: 50,
    });
    expect(s.output()).toContain('the desktop app is not used: there is no graphical display');
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-testid="app-root"');
    expect((await fetch(new URL(url).origin)).status).toBe(401);
    s.child.kill('SIGINT');
    expect(await exited(s.child)).toBe(0);

    // Stopping the GUI changes nothing for the services: the local agent still answers.
    const ls = await new Promise<string>((resolve) =>
      execFile(process.execPath, [ARMORY, 'node', 'ls', '--json'], { env: { ...process.env, ARMORY_HOME: path.join(work, 'home') }, timeout: 30_000 }, (_e, stdout) => resolve(stdout)),
    );
    expect(JSON.parse(ls)).toMatchObject({ nodes: [{ name: 'local', reachable: true }] });

    // With no Electron binary at all (this machine: electron 45 cannot download one), the reason says so.
    const { stderr } = await new Promise<{ stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [START, '--help'], { env: env({ DISPLAY: ':99' }), stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d: Buffer) => (err += d.toString()));
      c.on('exit', () => resolve({ stderr: err }));
    });
    expect(stderr).toMatch(/the desktop app is not used: (no Electron binary is installed|the electron package is not installed)/);
  });
});
