import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentHarness, cli } from '../../../helpers/agent-harness.js';
import { waitFor } from '../../../helpers/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../../../..');
const CLIENT = path.join(ROOT, 'dist/checkpoint-client.js');
const SHELL_CLIENT = path.join(ROOT, 'bin/armory-checkpoint.js');

/** A program that counts, saving each count as a checkpoint, and starts from the last one it finds. */
const COUNTER = `
import fs from 'node:fs';
import os from 'node:os';
import { loadCheckpoint, saveCheckpoint } from ${JSON.stringify(CLIENT)};
const [out] = process.argv.slice(2);
const last = await loadCheckpoint();
let n = last ? Number(last.data.toString()) : 0;
fs.appendFileSync(out + '.starts', n + '\\n');
for (;;) {
  n += 1;
  await saveCheckpoint(String(n));
  // Replaced whole (a SIGKILL between the truncation and the write of writeFileSync would leave it empty).
  fs.writeFileSync(out + '.tmp', String(n));
  fs.renameSync(out + '.tmp', out);
  await new Promise((r) => setTimeout(r, 10));
}
`;

let h: AgentHarness | null = null;
afterEach(async () => {
  await h?.dispose();
  h = null;
});

function shell(args: string[], input?: Buffer): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [SHELL_CLIENT, ...args], { encoding: 'buffer', timeout: 20_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr: stderr.toString() });
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? Buffer.alloc(0));
  });
}

const config = (dir: string, extra = '') => `services:
  counter:
    command: ${process.execPath}
    args: [${JSON.stringify(path.join(dir, 'counter.mjs'))}, ${JSON.stringify(path.join(dir, 'count'))}]
    restart: { backoff: { initial: 10ms }, minInterval: 10ms }
    checkpoint: { keep: 3, maxSize: 1MB }
${extra}`;

describe('checkpoints over the per-service socket', () => {
  it('a counting program killed with SIGKILL is restarted and continues from its last checkpoint; an event says which and how old', async () => {
    h = new AgentHarness('');
    fs.writeFileSync(path.join(h.dir, 'counter.mjs'), COUNTER);
    h.writeConfig(config(h.dir));
    await h.start();
    const countFile = path.join(h.dir, 'count');
    await waitFor('the program to count past 20', () => Number(fs.readFileSync(countFile, 'utf8') || 0) > 20);
    const s = await h.service('counter');
    process.kill(s.pid as number, 'SIGKILL');
    const before = Number(fs.readFileSync(countFile, 'utf8'));
    await waitFor('a second start', () => fs.readFileSync(`${countFile}.starts`, 'utf8').trim().split('\n').length === 2);
    const starts = fs.readFileSync(`${countFile}.starts`, 'utf8').trim().split('\n').map(Number);
    expect(starts[0]).toBe(0);
    // It resumes from the last checkpoint it saved: the count it had reached (or the one being saved when killed).
    expect(starts[1]).toBeGreaterThanOrEqual(before);
    expect(starts[1]).toBeLessThanOrEqual(before + 1);
    const events = await h.events();
    const loaded = events.find((e) => e.kind === 'checkpoint' && /loaded checkpoint \d+ .* saved [\d.]+ s ago/.test(e.reason));
    expect(loaded?.service).toBe('counter');
    expect(loaded?.detail?.ageMs).toBeTypeOf('number');
    // N versions are kept.
    await waitFor('versions to be pruned', () => fs.readdirSync(path.join(h?.stateDir as string, 'checkpoints/counter')).filter((f) => f.endsWith('.ckpt')).length === 3);
  });

  it('the shell client saves standard input and loads it back; a corrupt newest copy is skipped for the newest valid one, with an event', async () => {
    h = new AgentHarness('');
    h.writeConfig(`services:
  app:
    command: /bin/sleep
    args: ["1000"]
    checkpoint: { keep: 5, maxSize: 8MB }
`);
    await h.start();
    await h.waitService('app', 'running', (s) => s.state === 'running');
    const socket = path.join(h.stateDir, 'checkpoint/app.sock');
    const env = fs.readFileSync(`/proc/${(await h.service('app')).pid as number}/environ`, 'utf8').split('\0');
    expect(env).toContain(`ARMORY_CHECKPOINT_SOCKET=${socket}`);

    expect((await shell(['load', '--socket', socket])).code).toBe(3);
    const first = Buffer.from('first state');
    const second = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    expect((await shell(['save', '--socket', socket], first)).code).toBe(0);
    const saved = await shell(['save', '--socket', socket, '--json'], second);
    expect(saved.code).toBe(0);
    expect(JSON.parse(saved.stdout.toString())).toMatchObject({ seq: 2, size: second.length });
    expect((await shell(['load', '--socket', socket])).stdout.equals(second)).toBe(true);

    // Flip one byte in the newest copy on disk: the checksum catches it.
    const dir = path.join(h.stateDir, 'checkpoints/app');
    const newest = fs.readdirSync(dir).filter((f) => f.endsWith('.ckpt')).sort().at(-1) as string;
    const fd = fs.openSync(path.join(dir, newest), 'r+');
    fs.writeSync(fd, Buffer.from([8]), 0, 1, 1000);
    fs.closeSync(fd);
    const loaded = await shell(['load', '--socket', socket]);
    expect(loaded.code).toBe(0);
    expect(loaded.stdout.equals(first)).toBe(true);
    const listed = JSON.parse((await shell(['list', '--socket', socket, '--json'])).stdout.toString()) as { seq: number; valid: boolean }[];
    expect(listed.map((c) => [c.seq, c.valid])).toEqual([[2, false], [1, true]]);
    const events = await h.events();
    expect(events.some((e) => e.service === 'app' && /checkpoint 2 .* fails its checksum.*; skipped for an older one/.test(e.reason) && e.detail?.code === 'CHECKPOINT_E_CORRUPT')).toBe(true);

    // A truncated copy (a torn write) is skipped too.
    fs.truncateSync(path.join(dir, newest), 100);
    expect((await shell(['load', '--socket', socket])).stdout.equals(first)).toBe(true);

    // Beyond the bound: refused with its code, nothing stored.
    const big = await shell(['save', '--socket', socket], Buffer.alloc(9 * 1024 * 1024));
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/CHECKPOINT_E_TOO_LARGE/);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  });

  it('a program that only keeps a state file: the agent takes it as a checkpoint when it changes and puts it back when it is lost', async () => {
    h = new AgentHarness('');
    const file = path.join(h.dir, 'state.txt');
    h.writeConfig(`services:
  plain:
    command: /bin/sh
    args: ["-c", "i=0; while true; do i=$((i+1)); echo $i > ${file}.tmp && mv ${file}.tmp ${file}; sleep 0.05; done"]
    checkpoint: { path: ${JSON.stringify(file)}, every: 100ms, keep: 2 }
`);
    await h.start();
    const dir = path.join(h.stateDir, 'checkpoints/plain');
    const count = () => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.ckpt')).length : 0);
    await waitFor('checkpoints of the file', () => count() === 2);
    await cli(['stop', 'plain', '--state-dir', h.stateDir]);
    await h.waitService('plain', 'stopped', (x) => x.state === 'stopped');
    const newestData = () => {
      const f = fs.readdirSync(dir).filter((x) => x.endsWith('.ckpt')).sort().at(-1) as string;
      const b = fs.readFileSync(path.join(dir, f));
      return b.subarray(0, b.length - 8 - b.readUInt32BE(b.length - 8)).toString();
    };
    await waitFor('the last state of the file to be taken', () => newestData() === fs.readFileSync(file, 'utf8'));
    const kept = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-kept-'));
    fs.cpSync(dir, kept, { recursive: true });
    const saved = fs.readFileSync(file, 'utf8');
    await h.dispose();
    // The agent, its program and the file are gone. A new agent with the checkpoints puts the newest back before the program starts.
    h = new AgentHarness('');
    fs.mkdirSync(path.join(h.stateDir, 'checkpoints'), { recursive: true });
    fs.cpSync(kept, path.join(h.stateDir, 'checkpoints/plain'), { recursive: true });
    fs.rmSync(kept, { recursive: true, force: true });
    h.writeConfig(`services:
  plain:
    command: /bin/sleep
    args: ["1000"]
    checkpoint: { path: ${JSON.stringify(path.join(h.dir, 'state.txt'))}, every: 100ms }
`);
    await h.start();
    expect(fs.readFileSync(path.join(h.dir, 'state.txt'), 'utf8')).toBe(saved);
    const events = await h.events();
    expect(events.some((e) => e.service === 'plain' && /restored .*state.txt from checkpoint \d+ .* saved [\d.]+ s ago/.test(e.reason))).toBe(true);
  });
});
