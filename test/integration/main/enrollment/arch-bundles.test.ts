import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectAgentBundle } from '../../../../main/core/enrollment/agent-bundle.js';
import type { HostArch } from '../../../../main/core/enrollment/host-profile.js';

const REPO = path.resolve(import.meta.dirname, '../../../..');
const FETCH = path.join(REPO, 'scripts/fetch-runtimes.js');

/** The machine an ELF file is built for, from its header (e_machine): what `file` would say. */
function elfMachine(file: string): string {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(20);
  fs.readSync(fd, head, 0, 20, 0);
  fs.closeSync(fd);
  expect(head.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  return ({ 0x3e: 'x86-64', 0xb7: 'aarch64' } as Record<number, string>)[head.readUInt16LE(18)] ?? `machine ${head.readUInt16LE(18)}`;
}

const MACHINE: Record<HostArch, string> = { x64: 'x86-64', arm64: 'aarch64' };

describe('agent bundles for every architecture a node may have', () => {
  it.each(['x64', 'arm64'] as const)('ships the %s Node runtime and koffi library, fetched as package-lock.json pins them', async (arch) => {
    // npm installs only this machine's architecture; the script brings the other one (from the npm registry).
    execFileSync(process.execPath, [FETCH, '--arch', arch], { stdio: 'pipe', timeout: 240_000 });
    const bundle = await collectAgentBundle(REPO, arch, { withRuntime: true });
    const runtime = bundle.files.find((f) => f.path === 'runtime/bin/node');
    const koffi = bundle.files.find((f) => f.path.startsWith(`node_modules/@koromix/koffi-linux-${arch}/`) && f.path.endsWith('.node'));
    expect(runtime?.mode).toBe(0o755);
    expect(elfMachine((runtime?.source as { file: string }).file)).toBe(MACHINE[arch]);
    expect(elfMachine((koffi?.source as { file: string }).file)).toBe(MACHINE[arch]);
    expect(bundle.files.some((f) => f.path === 'dist/agent.js')).toBe(true);
    // No other architecture's native code rides along.
    const other = arch === 'x64' ? 'arm64' : 'x64';
    expect(bundle.files.some((f) => f.path.includes(`linux-${other}`))).toBe(false);
  }, 300_000);

  it('refuses a tarball whose checksum differs from the lock, and names the command when a part is missing', async () => {
    const { matchesIntegrity } = (await import(FETCH)) as { matchesIntegrity: (file: string, integrity: string) => boolean };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-integrity-'));
    const f = path.join(dir, 'x.tgz');
    fs.writeFileSync(f, 'not the package');
    expect(matchesIntegrity(f, 'sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==')).toBe(false);
    expect(matchesIntegrity(f, `sha512-${(await import('node:crypto')).createHash('sha512').update('not the package').digest('base64')}`)).toBe(true);
    // A bundle folder without the per-architecture packages: the error says what to run.
    fs.mkdirSync(path.join(dir, 'dist'));
    for (const b of fs.readdirSync(path.join(REPO, 'dist')).filter((f) => f.endsWith('.js'))) fs.writeFileSync(path.join(dir, 'dist', b), '');
    fs.cpSync(path.join(REPO, 'node_modules/koffi'), path.join(dir, 'node_modules/koffi'), { recursive: true });
    await expect(collectAgentBundle(dir, 'arm64', { withRuntime: false })).rejects.toThrow(/koromix\/koffi-linux-arm64.*npm run runtimes/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
