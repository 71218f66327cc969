import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArmoryError } from '../../../../common/errors/armory-error.js';
import { parseProfile, profileScript, type HostProfile } from '../../../../main/core/enrollment/host-profile.js';
import { checkHostSupport, DEFAULT_HOST_REQUIREMENTS } from '../../../../main/core/enrollment/host-support.js';
import { parseInspection } from '../../../../main/core/enrollment/previous-install.js';
import { makeDirScript, parseMadeDirs, removeEmptyDirsScript } from '../../../../main/core/enrollment/remote-dirs.js';
import { remoteLayout, userLayout } from '../../../../main/core/enrollment/remote-layout.js';
import { shellCommand, shellQuote } from '../../../../common/node/shell-quote.js';
import { runSteps, type ProgressEvent, type Step } from '../../../../main/core/enrollment/step-runner.js';
import { planFor } from '../../../../main/core/enrollment/step-profile.js';
import { normaliseEnrollOptions } from '../../../../main/core/enrollment/enrollment-options.js';
import { readUnitTemplate, renderUnit, type UnitScope } from '../../../../main/core/enrollment/systemd-unit.js';

const REPO = path.resolve(import.meta.dirname, '../../../..');
const sh = (script: string) => execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });

let scratch = '';
afterEach(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  scratch = '';
});

describe('shell quoting (through a real /bin/sh)', () => {
  it.each(["plain", "it's", "a b\tc", '$(touch /nonexistent)', '`id`', '"; rm -rf /', "''", 'line\nbreak', '*', ''])('passes %j through unchanged', (word) => {
    expect(sh(`printf '%s' ${shellQuote(word)}`)).toBe(word);
  });

  it('keeps each argument whole', () => {
    expect(sh(`for a in ${shellCommand(['a b', "c'd", '$e'])}; do printf '[%s]' "$a"; done`)).toBe("[a b][c'd][$e]");
  });
});

describe('the host profile, taken on this machine', () => {
  it('reads what uname, /proc and df say', () => {
    const p = parseProfile(sh(profileScript('/nonexistent-armory-profile/opt/armory')));
    expect(p).toMatchObject({ os: 'Linux', arch: os.arch() === 'x64' ? 'x64' : 'arm64', libc: 'glibc', root: process.getuid?.() === 0 });
    expect(p.cpus).toBe(os.cpus().length);
    expect(Math.abs(p.memoryMb - Math.floor(os.totalmem() / 1048576))).toBeLessThan(64);
    expect(p.diskPath).toBe('/');
    expect(p.freeDiskMb).toBeGreaterThan(0);
    expect(p.node?.version).toBe(execFileSync('node', ['--version'], { encoding: 'utf8' }).trim());
    expect(p.missingCommands).toEqual([]);
    // This machine has iproute2 and iputils-arping (installed for the failover tests).
    expect(p.missingVipCommands).toEqual([]);
  });

  it('refuses an unsupported host with every reason', () => {
    const ok: HostProfile = parseProfile(sh(profileScript('/opt/armory')));
    expect(checkHostSupport(ok, DEFAULT_HOST_REQUIREMENTS)).toEqual({ supported: true });
    const bad = { ...ok, os: 'FreeBSD', arch: null, machine: 'riscv64', libc: 'musl' as const, root: false, sudo: false, freeDiskMb: 50, missingCommands: ['sha256sum'] };
    const r = checkHostSupport(bad, DEFAULT_HOST_REQUIREMENTS);
    expect(r.supported).toBe(false);
    if (r.supported) return;
    expect(r.reasons.join('\n')).toMatch(/FreeBSD.*Linux only/);
    expect(r.reasons.join('\n')).toMatch(/riscv64/);
    expect(r.reasons.join('\n')).toMatch(/musl/);
    expect(r.reasons.join('\n')).toMatch(/not root, cannot use sudo without a password and has no systemd user manager/);
    // A user with neither root nor sudo but a systemd user manager is supported: the agent goes in as a user unit.
    expect(checkHostSupport({ ...ok, root: false, sudo: false, userSystemd: true }, DEFAULT_HOST_REQUIREMENTS)).toEqual({ supported: true });
    expect(r.reasons.join('\n')).toMatch(/only 50 MB are free .* needs 200 MB/);
    expect(r.reasons.join('\n')).toMatch(/lacks commands enrollment needs: sha256sum/);
  });

  it('takes a profile without the basics as an error, not as an empty host', () => {
    expect(() => parseProfile('garbage\n')).toThrow(ArmoryError);
  });
});

describe('folders made and taken back (through a real /bin/sh)', () => {
  it('reports the folders it made, topmost first, and removes only those that stay empty', () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-dirs-'));
    const target = path.join(scratch, 'var/lib/armory');
    const made = parseMadeDirs(sh(makeDirScript(target, '0700')));
    expect(made).toEqual([path.join(scratch, 'var'), path.join(scratch, 'var/lib'), target]);
    expect(fs.statSync(target).mode & 0o777).toBe(0o700);
    fs.writeFileSync(path.join(scratch, 'var/keep'), 'x');
    fs.rmSync(target, { recursive: true });
    sh(removeEmptyDirsScript(made));
    expect(fs.readdirSync(scratch)).toEqual(['var']);
    expect(fs.readdirSync(path.join(scratch, 'var'))).toEqual(['keep']);
    expect(parseMadeDirs(sh(makeDirScript(target, '0700')))).toEqual([path.join(scratch, 'var/lib'), target]);
  });
});

describe('the installation layout', () => {
  it('puts everything under the install root and refuses roots that are not plain absolute paths', () => {
    expect(remoteLayout('')).toMatchObject({ installDir: '/opt/armory', stateDir: '/var/lib/armory', unitFile: '/etc/systemd/system/armory-agent.service' });
    expect(remoteLayout('/tmp/x').tlsDir).toBe('/tmp/x/var/lib/armory/tls');
    for (const bad of ['relative', '/tmp/../etc', '/tmp/x/', '/tmp/a b', '/tmp/50%', `/${'x'.repeat(100)}`]) {
      expect(() => remoteLayout(bad), bad).toThrow(/installRoot/);
    }
  });

  it('reads a previous installation from what the inspection script prints, ignoring a corrupt manifest', () => {
    const manifest = { format: 'armory-enrollment/1', node: 'n1', enrolledAt: 't', service: 'keeper', nodePath: '/usr/bin/node', listen: '0.0.0.0:7443', stateDir: '/var/lib/armory', crontab: true, createdDirs: [] };
    const hex = (s: string) => Buffer.from(s).toString('hex');
    const argv = ['/usr/bin/node', '/opt/armory/dist/agent.js', 'keeper', '--listen', '0.0.0.0:7443', '--state-dir', '/var/lib/armory'];
    const found = parseInspection(`manifest=${hex(JSON.stringify(manifest))}\nproc=42 keeper ${hex(`${argv.join('\0')}\0`)}\nunit=inactive\n`);
    expect(found.manifest?.node).toBe('n1');
    expect(found.processes).toEqual([{ pid: 42, role: 'keeper', argv }]);
    expect(found.unitActive).toBe(false);
    expect(parseInspection(`manifest=${hex('{"format":"x"}')}\nunit=active\n`)).toMatchObject({ manifest: null, unitActive: true });
  });
});

describe('how the agent goes onto a host (the install plan)', () => {
  const ca = { certPem: 'x', keyPem: 'x' };
  const options = (extra: { service?: 'auto' | 'systemd' | 'systemd-user' | 'keeper'; installRoot?: string } = {}) =>
    normaliseEnrollOptions({ node: 'n1', host: 'h', user: 'alice', auth: { password: 'p' }, ca, manager: ca, bundleDir: REPO, ...extra });
  const host = parseProfile(sh(profileScript('/opt/armory')));
  const profile = (p: Partial<HostProfile>): HostProfile => ({ ...host, node: null, home: '/home/alice', ...p });

  it('installs as root: a system unit where PID 1 is systemd, else the keeper', () => {
    expect(planFor(options(), profile({ root: true, systemd: true }))).toMatchObject({ privilege: 'root', service: 'systemd', layout: { kind: 'system', installDir: '/opt/armory' } });
    expect(planFor(options(), profile({ root: false, sudo: true, systemd: false, crontab: true }))).toMatchObject({ privilege: 'sudo', service: 'keeper', crontab: true });
  });

  it('installs a user unit in the home folder of a user with neither root nor sudo but a systemd user manager', () => {
    const plan = planFor(options(), profile({ root: false, sudo: false, userSystemd: true, crontab: true }));
    expect(plan).toMatchObject({ privilege: 'user', service: 'systemd-user', crontab: false, runtime: 'bundled', nodePath: '/home/alice/.local/lib/armory/runtime/bin/node' });
    expect(plan.layout).toMatchObject({
      kind: 'user',
      installDir: '/home/alice/.local/lib/armory',
      stateDir: '/home/alice/.local/state/armory',
      tlsDir: '/home/alice/.local/state/armory/tls',
      unitFile: '/home/alice/.config/systemd/user/armory-agent.service',
    });
    // Asked for explicitly by a sudoer, too; under an installRoot (tests, shared filesystems) instead of $HOME.
    expect(planFor(options({ service: 'systemd-user', installRoot: '/tmp/r' }), profile({ sudo: true, userSystemd: true })).layout.installDir).toBe('/tmp/r/.local/lib/armory');
  });

  it('refuses a plan the host cannot carry, saying why', () => {
    expect(() => planFor(options({ service: 'systemd-user' }), profile({ root: true, userSystemd: false }))).toThrow(/alice has no systemd user manager/);
    expect(() => planFor(options({ service: 'keeper' }), profile({ root: false, sudo: false, userSystemd: true }))).toThrow(/the keeper needs root/);
    expect(() => planFor(options({ service: 'systemd' }), profile({ root: true, systemd: false }))).toThrow(/PID 1 is not systemd/);
    expect(() => planFor(options(), profile({ root: false, sudo: false, userSystemd: true, home: null }))).toThrow(/no home folder/);
    expect(() => userLayout('/home/a b')).toThrow(/plain absolute path/);
  });
});

describe('the systemd units', () => {
  it.each([
    ['systemd', /^WantedBy=multi-user\.target$/m],
    ['systemd-user', /^WantedBy=default\.target$/m],
  ] as const)('fills every placeholder of the shipped %s template with the enrolled agent command line', (scope: UnitScope, wantedBy) => {
    const unit = renderUnit(readUnitTemplate(REPO, scope), { nodePath: '/opt/armory/runtime/bin/node', agentScript: '/opt/armory/dist/agent.js', listen: '0.0.0.0:7443', stateDir: '/var/lib/armory' });
    expect(unit).toContain('ExecStart=/opt/armory/runtime/bin/node /opt/armory/dist/agent.js run --listen 0.0.0.0:7443 --state-dir /var/lib/armory\n');
    expect(unit).toMatch(wantedBy);
    expect(unit).toMatch(/^KillMode=process$/m);
    expect(unit).not.toMatch(/@[A-Z_]+@/);
    if (spawnSync('systemd-analyze', ['--version']).status === 0) {
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-unit-'));
      fs.writeFileSync(path.join(scratch, 'armory-agent.service'), unit);
      // Only the syntax: the paths in ExecStart do not exist here.
      const r = spawnSync('systemd-analyze', [...(scope === 'systemd-user' ? ['--user'] : []), 'verify', path.join(scratch, 'armory-agent.service')], { encoding: 'utf8' });
      expect(r.stderr).not.toMatch(/Unknown (key|section)|Failed to parse/);
    }
  });
});

describe('the step runner', () => {
  const trace: string[] = [];
  const step = (name: string, behaviour: { fail?: boolean; undoFails?: boolean; noUndo?: boolean } = {}): Step<null> => ({
    name,
    run: (_ctx, report) => {
      trace.push(`run ${name}`);
      report('half-way');
      return behaviour.fail ? Promise.reject(new ArmoryError('ENROLL_E_COMMAND', `${name} broke`)) : Promise.resolve(`${name} ok`);
    },
    ...(behaviour.noUndo
      ? {}
      : {
          undo: () => {
            trace.push(`undo ${name}`);
            return behaviour.undoFails ? Promise.reject(new Error(`${name} undo broke`)) : Promise.resolve(`${name} undone`);
          },
        }),
    commit: () => {
      trace.push(`commit ${name}`);
      return Promise.resolve();
    },
  });

  it('runs every step in order and commits them all when none fails', async () => {
    trace.length = 0;
    const events: ProgressEvent[] = [];
    const r = await runSteps([step('a'), step('b')], null, (e) => events.push(e));
    expect(r.ok).toBe(true);
    expect(trace).toEqual(['run a', 'run b', 'commit a', 'commit b']);
    expect(events.map((e) => `${e.step} ${e.status} ${e.detail}`)).toEqual(['a running ', 'a running half-way', 'a done a ok', 'b running ', 'b running half-way', 'b done b ok']);
  });

  it('undoes the failed step and every earlier one, last first; an undo that fails is reported and the others still run', async () => {
    trace.length = 0;
    const events: ProgressEvent[] = [];
    const r = await runSteps([step('a'), step('b', { noUndo: true }), step('c', { undoFails: true }), step('d', { fail: true }), step('e')], null, (e) => {
      events.push(e);
      throw new Error('a listener that throws changes nothing');
    });
    expect(trace).toEqual(['run a', 'run b', 'run c', 'run d', 'undo d', 'undo c', 'undo a']);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.failedStep).toBe('d');
    expect(r.error.message).toBe('d broke');
    expect(r.rolledBack).toEqual(['d', 'a']);
    expect(r.undoFailed.map((u) => [u.step, u.error.message])).toEqual([['c', 'c undo broke']]);
    expect(r.steps.map((s) => [s.step, s.status])).toEqual([
      ['a', 'rolled-back'],
      ['b', 'done'],
      ['c', 'done'],
      ['d', 'failed'],
    ]);
    const rollback = events.filter((e) => e.phase === 'rollback' && e.status !== 'running').map((e) => `${e.step} ${e.status}`);
    expect(rollback).toEqual(['d rolled-back', 'c failed', 'a rolled-back']);
  });
});
