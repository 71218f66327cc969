import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSameLiveProcess, readProcStat } from '../../../../common/node/proc-stat.js';
import { stopGroupPrograms } from '../../../../agent/keeper/stop-group-programs.js';
import { heldServicesFile, type HeldService } from '../../../../agent/peers/held-services.js';
import { stateDirLayout } from '../../../../agent/state-dir.js';
import { waitFor } from '../../../helpers/wait.js';

// What the keeper does to a dead agent's failover-group programs: the service's stop signal, then
// SIGKILL after its (bounded) grace; only processes the state journal names with the start time
// /proc still shows; programs of no group are left for the restarted agent to re-adopt.
const children: ChildProcess[] = [];
let dir = '';

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-stop-group-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.pid && c.exitCode === null && c.signalCode === null) signalQuietly(-c.pid, 'SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

/** A program in its own process group, as the supervisor starts one. */
function program(script: string): { pid: number; startTicks: number } {
  const c = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
  children.push(c);
  const pid = c.pid as number;
  return { pid, startTicks: readProcStat(pid)?.startTicks as number };
}

function record(held: HeldService[], services: Record<string, { pid: number; startTicks: number }>): void {
  fs.mkdirSync(path.dirname(heldServicesFile(dir)), { recursive: true });
  fs.writeFileSync(heldServicesFile(dir), JSON.stringify(held));
  const snap = (p: { pid: number; startTicks: number }) => ({
    state: 'running',
    desired: 'up',
    pid: p.pid,
    startTicks: p.startTicks,
    tracker: { restartTimes: [], consecutive: 0, lastStartAt: null, totalRestarts: 0 },
    reason: '',
    lastExit: null,
  });
  const doc = { format: 1, instance: 'abcdef0123456789', services: Object.fromEntries(Object.entries(services).map(([k, v]) => [k, snap(v)])), appliedConfig: null };
  fs.writeFileSync(stateDirLayout(dir).stateFile, JSON.stringify(doc));
}

/** A child of the program, once it has one (its script got past its first line). */
const childOf = (p: { pid: number }) =>
  waitFor('the program\'s child', () => fs.readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim().split(' ').map(Number).find((n) => n > 0));

const held = (service: string, graceMs = 1000): HeldService => ({ service, group: 'g', signal: 'SIGTERM', graceMs });
const live = (p: { pid: number; startTicks: number }) => isSameLiveProcess(p.pid, p.startTicks);

describe('stopGroupPrograms (the keeper, after its agent died)', () => {
  it('stops a group program and its children with its stop signal; a program of no group keeps running', async () => {
    const db = program('sleep 60 & wait');
    const child = await childOf(db);
    const other = program('exec sleep 60');
    record([held('db')], { db, other });
    const said = await stopGroupPrograms(dir);
    expect(live(db)).toBe(false);
    expect(readProcStat(child)?.state ?? 'gone').toMatch(/gone|Z/);
    expect(live(other)).toBe(true);
    expect(said.join('\n')).toMatch(new RegExp(`stopped db \\(pid ${db.pid}, group g\\)`));
  });

  it('a program that ignores its stop signal gets SIGKILL once its grace is over, bounded by maxGraceMs', async () => {
    const stubborn = program('trap "" TERM; while :; do sleep 0.05; done');
    const patient = program('trap "" TERM; while :; do sleep 0.05; done');
    await childOf(stubborn);
    await childOf(patient);
    record([held('stubborn', 100), held('patient', 600_000)], { stubborn, patient });
    const said = (await stopGroupPrograms(dir, { maxGraceMs: 300 })).join('\n');
    expect(live(stubborn)).toBe(false);
    expect(live(patient)).toBe(false);
    expect(said).toContain('stubborn (pid');
    expect(said).toMatch(/stubborn .* did not exit within 100 ms of SIGTERM: sent SIGKILL/);
    expect(said).toMatch(/patient .* did not exit within 300 ms of SIGTERM: sent SIGKILL/);
  });

  it('a stopped (SIGSTOP) program is continued so that it sees its stop signal', async () => {
    const hung = program('exec sleep 60');
    process.kill(hung.pid, 'SIGSTOP');
    record([held('hung', 5000)], { hung });
    const said = (await stopGroupPrograms(dir)).join('\n');
    expect(live(hung)).toBe(false);
    expect(said).not.toContain('SIGKILL');
  });

  it('never touches a pid whose start time is not the recorded one (a reused pid), nor anything when nothing is recorded', async () => {
    const stranger = program('exec sleep 60');
    record([held('db')], { db: { pid: stranger.pid, startTicks: stranger.startTicks - 1 } });
    expect(await stopGroupPrograms(dir)).toEqual([]);
    expect(live(stranger)).toBe(true);
    fs.rmSync(heldServicesFile(dir));
    record([], { db: stranger });
    expect(await stopGroupPrograms(dir)).toEqual([]);
    expect(live(stranger)).toBe(true);
  });

  it('an unreadable state journal stops nothing and says so', async () => {
    const db = program('exec sleep 60');
    record([held('db')], { db });
    fs.writeFileSync(stateDirLayout(dir).stateFile, '{"format": 1, "trunc');
    expect((await stopGroupPrograms(dir)).join('\n')).toMatch(/cannot read the agent's state journal/);
    expect(live(db)).toBe(true);
  });
});
