import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArmoryError } from '../../../../common/errors/armory-error.js';
import { JobResultStore, newRunId } from '../../../../common/node/job-results.js';
import type { JobRun } from '../../../../common/wire/jobs.js';

let dir = '';
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const run = (id: string): JobRun => ({
  id,
  job: 'j',
  mode: 'local',
  runner: 'test',
  startedAt: 'a',
  finishedAt: 'b',
  outcome: 'succeeded',
  quorum: 1,
  replicas: 1,
  exitCode: 0,
  winner: null,
  attempts: [],
  delivered: null,
  error: null,
  summary: 'ok',
});

describe('JobResultStore', () => {
  it('keeps runs, lists them newest first, skips a damaged record and drops the oldest past 50', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-jr-'));
    const store = new JobResultStore(dir);
    const ids = Array.from({ length: 52 }, (_, i) => `2026-${String(i).padStart(3, '0')}`);
    for (const id of ids) await store.save(run(id));
    expect(store.list('j', 100).map((r) => r.id)).toEqual(ids.slice(2).reverse());
    fs.writeFileSync(path.join(store.runDir('j', ids[51] as string), 'run.json'), '{"trunc');
    expect(store.list('j', 2).map((r) => r.id)).toEqual([ids[50], ids[49]]);
    expect(store.list('other')).toEqual([]);
  });

  it('reads one kept run by id and names the jobs that have runs; anything else is null or skipped', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-jr-'));
    const store = new JobResultStore(dir);
    expect(store.jobs()).toEqual([]);
    await store.save(run('r1'));
    await store.save({ ...run('r2'), job: 'k' });
    fs.mkdirSync(path.join(dir, 'Not A Job'));
    fs.writeFileSync(path.join(dir, 'stray-file'), '');
    expect(store.jobs()).toEqual(['j', 'k']);
    expect(store.read('j', 'r1')?.summary).toBe('ok');
    for (const [job, id] of [['j', 'nope'], ['k', 'r1'], ['j', '../k/r2'], ['../j', 'r1'], ['j', '']]) expect(store.read(job as string, id as string), `${job}/${id}`).toBeNull();
    fs.writeFileSync(path.join(store.runDir('j', 'r1'), 'run.json'), '{"id": "r1"}');
    expect(store.read('j', 'r1')).toBeNull();
  });

  it('delivers files inside the run folder only', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-jr-'));
    const store = new JobResultStore(dir);
    expect(await store.deliver('j', 'r1', [{ path: 'outputs/a/b.txt', data: Buffer.from('x') }])).toEqual(['outputs/a/b.txt']);
    expect(fs.readFileSync(path.join(store.runDir('j', 'r1'), 'outputs/a/b.txt'), 'utf8')).toBe('x');
    for (const bad of ['../../escape', 'run.json', '/etc/x']) {
      const e = await store.deliver('j', 'r1', [{ path: bad, data: Buffer.from('x') }]).catch((err: unknown) => err);
      expect(e instanceof ArmoryError && e.code, bad).toBe('JOB_E_BAD_REQUEST');
    }
  });

  it('run ids sort by time', () => {
    const a = newRunId(new Date('2026-01-01T00:00:00Z'));
    const b = newRunId(new Date('2026-01-01T00:00:01Z'));
    expect(a < b).toBe(true);
    expect(a).toMatch(/^[0-9A-Za-z-]{1,64}$/);
  });
});
