import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentHarness, canConnect, freePort, isAlive } from '../../helpers/agent-harness.js';
import { waitFor } from '../../helpers/wait.js';

const SERVER = path.resolve(import.meta.dirname, '../../fixtures/tcp-server.js');
let h: AgentHarness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

function config(port: number): string {
  return `services:\n  web:\n    command: ${process.execPath}\n    args: ["${SERVER}", "${port}"]\n  idle:\n    command: /bin/sleep\n    args: ["1000"]\n`;
}

describe('self-recovery: the agent dies, the programs do not', () => {
  it('SIGKILL of the agent stops no program; a new agent re-adopts them and keeps watching', async () => {
    const port = freePort();
    h = new AgentHarness(config(port));
    await h.start();
    const before = await h.waitService('web', 'running', (s) => s.state === 'running');
    const idleBefore = await h.service('idle');
    await waitFor('the server to accept', () => canConnect(port));

    await h.killAgent();
    // The program keeps serving while no agent runs, and keeps logging without SIGPIPE.
    expect(await canConnect(port)).toBe(true);
    expect(await canConnect(port)).toBe(true);
    expect(isAlive(before.pid as number)).toBe(true);

    await h.start();
    const after = await h.service('web');
    expect(after.pid).toBe(before.pid);
    expect(after.state).toBe('running');
    expect(after.reason).toMatch(/re-adopted/);
    expect((await h.service('idle')).pid).toBe(idleBefore.pid);
    const started = (await h.events()).filter((e) => e.kind === 'agent' && /agent started/.test(e.reason)).at(-1);
    expect(started?.detail?.adopted).toBe(2);

    // The re-adopted program is still supervised: a crash is noticed and it is restarted.
    process.kill(before.pid as number, 'SIGKILL');
    const restarted = await h.waitService('web', 'restarted', (s) => s.state === 'running' && s.pid !== before.pid);
    expect(restarted.restarts).toBe(1);
    await waitFor('the new server to accept', () => canConnect(port));
  });

  it('a program that died while the agent was down is restarted per policy, with an event', async () => {
    const port = freePort();
    h = new AgentHarness(config(port));
    await h.start();
    const before = await h.waitService('web', 'running', (s) => s.state === 'running');
    await h.killAgent();
    process.kill(before.pid as number, 'SIGKILL');
    await waitFor('the program to die', () => !isAlive(before.pid as number));
    await h.start();
    const after = await h.waitService('web', 'running again', (s) => s.state === 'running' && s.pid !== before.pid);
    expect(after.restarts).toBe(1);
    const events = await h.events();
    expect(events.some((e) => e.service === 'web' && e.kind === 'adoption' && /while the agent was down/.test(e.reason))).toBe(true);
  });

  it('never adopts a recycled pid: a live process with another start time is left alone', async () => {
    h = new AgentHarness(`services:\n  s:\n    command: /bin/sleep\n    args: ["1000"]\n`);
    await h.start();
    const before = await h.waitService('s', 'running', (x) => x.state === 'running');
    await h.killAgent();
    process.kill(-(before.pid as number), 'SIGKILL');
    // A stranger now holds a pid recorded in the journal: rewrite the journal so that it names the stranger's pid.
    const stranger = spawn('/bin/sleep', ['1000'], { stdio: 'ignore' });
    h.track(stranger.pid as number);
    const stateFile = path.join(h.stateDir, 'state.json');
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { services: Record<string, { pid: number }> };
    (state.services.s as { pid: number }).pid = stranger.pid as number;
    fs.writeFileSync(stateFile, JSON.stringify(state));

    await h.start();
    const after = await h.waitService('s', 'running', (x) => x.state === 'running' && x.pid !== stranger.pid);
    expect(after.reason).not.toMatch(/re-adopted/);
    expect(isAlive(stranger.pid as number)).toBe(true);
    stranger.kill('SIGKILL');
  });

  it('a corrupt state journal falls back to the last good copy and raises an event', async () => {
    h = new AgentHarness(`services:\n  s:\n    command: /bin/sleep\n    args: ["1000"]\n`);
    await h.start();
    const before = await h.waitService('s', 'running', (x) => x.state === 'running');
    // Make sure a previous version (the last good copy) exists, then tear the journal in half.
    await h.killAgent();
    const stateFile = path.join(h.stateDir, 'state.json');
    expect(fs.existsSync(`${stateFile}.bak`)).toBe(true);
    const text = fs.readFileSync(stateFile, 'utf8');
    fs.writeFileSync(stateFile, text.slice(0, Math.floor(text.length / 2)));

    await h.start();
    const events = await h.events();
    const store = events.find((e) => e.kind === 'store');
    expect(store?.reason).toMatch(/last good copy/);
    const after = await h.waitService('s', 'running', (x) => x.state === 'running');
    expect(fs.readdirSync(h.stateDir).some((f) => f.startsWith('state.json.corrupt-'))).toBe(true);
    // Either the good copy named the same program (re-adopted) or a fresh one runs: never two.
    if (after.pid !== before.pid) expect(isAlive(before.pid as number)).toBe(false);
  });

  it('refuses to start empty when the journal and its last good copy are both corrupt', async () => {
    h = new AgentHarness(`services:\n  s:\n    command: /bin/sleep\n    args: ["1000"]\n`);
    await h.start();
    await h.waitService('s', 'running', (x) => x.state === 'running');
    await h.killAgent();
    fs.writeFileSync(path.join(h.stateDir, 'state.json'), '{"garbage');
    fs.writeFileSync(path.join(h.stateDir, 'state.json.bak'), 'not json');
    await expect(h.start()).rejects.toThrow(/STORE_E_CORRUPT/);
  });

  it('stops a program of its own that its journal does not name (the agent died between spawn and save)', async () => {
    h = new AgentHarness(`services:\n  s:\n    command: /bin/sleep\n    args: ["1000"]\n`);
    await h.start();
    await h.waitService('s', 'running', (x) => x.state === 'running');
    await h.killAgent();
    const { instance } = JSON.parse(fs.readFileSync(path.join(h.stateDir, 'state.json'), 'utf8')) as { instance: string };
    const orphan = spawn('/bin/sleep', ['1000'], { detached: true, stdio: 'ignore', env: { ...process.env, ARMORY_INSTANCE: instance, ARMORY_SERVICE: 's' } });
    h.track(orphan.pid as number);
    await h.start();
    await waitFor('the orphan to be stopped', () => !isAlive(orphan.pid as number));
    const events = await h.events();
    expect(events.some((e) => e.kind === 'adoption' && /journal does not name; stopped it/.test(e.reason) && e.detail?.pid === orphan.pid)).toBe(true);
    expect((await h.service('s')).reason).toMatch(/re-adopted/);
  });
});
