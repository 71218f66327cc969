import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArmoryError } from '../../../../../common/errors/armory-error.js';
import { JobResultStore } from '../../../../../common/node/job-results.js';
import { ManagerJobs } from '../../../../../main/core/jobs/manager-jobs.js';
import type { Manager } from '../../../../../main/core/manager.js';
import { jobRunFixture } from '../../../../helpers/job-run-fixture.js';

let home = '';
let jobs: ManagerJobs;
let secret = '';

const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: ArmoryError) => e.code);

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-delivered-'));
  secret = path.join(home, 'secret.txt');
  fs.writeFileSync(secret, 'not for the GUI\n');
  jobs = new ManagerJobs({ home: { root: home, localAgentDir: path.join(home, 'local-agent') } } as unknown as Manager);
  const store = jobs.store;
  const files = await store.deliver('j', 'r-1', [
    { path: 'stdout', data: Buffer.from('ok\n') },
    { path: 'outputs/a.txt', data: Buffer.from('a\n') },
  ]);
  // A record is data: it may name any folder and any file; only the run's own folder is read.
  await store.save(jobRunFixture('j', 'r-1', { mode: 'nodes', runner: 'manager', delivered: { dir: home, files: [...files, 'secret.txt', '../../secret.txt', '/etc/hostname', 'outputs/../../../secret.txt', 'outputs/link'] } }));
  fs.symlinkSync(home, path.join(store.runDir('j', 'r-1'), 'outputs', 'link'));
  // A local job on the local node: its agent keeps the files in its own results folder.
  const local = new JobResultStore(path.join(home, 'local-agent', 'jobs', 'results'));
  const localFiles = await local.deliver('j', 'r-2', [{ path: 'stdout', data: Buffer.from('local\n') }]);
  await store.save(jobRunFixture('j', 'r-2', { delivered: { dir: '/nowhere', files: localFiles } }));
  // A link in the middle of the path, out of the folder.
  fs.mkdirSync(path.join(home, 'elsewhere', 'outputs'), { recursive: true });
  fs.writeFileSync(path.join(home, 'elsewhere', 'outputs', 'b.txt'), 'b\n');
  fs.mkdirSync(store.runDir('j', 'r-3'), { recursive: true });
  fs.symlinkSync(path.join(home, 'elsewhere', 'outputs'), path.join(store.runDir('j', 'r-3'), 'outputs'));
  await store.save(jobRunFixture('j', 'r-3', { mode: 'nodes', runner: 'manager', delivered: { dir: store.runDir('j', 'r-3'), files: ['outputs/b.txt'] } }));
});

afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('ManagerJobs.delivered: a delivered file, read only from the run\'s own folder', () => {
  it('reads the files a run delivered, where the store keeps them (not where the record says)', async () => {
    expect(await jobs.delivered('j', 'r-1', 'stdout', 100)).toEqual({ text: 'ok\n', bytes: 3, truncated: false });
    expect(await jobs.delivered('j', 'r-1', 'outputs/a.txt', 1)).toEqual({ text: 'a', bytes: 2, truncated: true });
    expect(await jobs.delivered('j', 'r-2', 'stdout', 100)).toEqual({ text: 'local\n', bytes: 6, truncated: false });
  });

  it('refuses a file out of the folder even when the record lists it, and any link out, on the way or at the end', async () => {
    expect(await codeOf(jobs.delivered('j', 'r-1', 'secret.txt', 100))).toBe('JOB_E_OUTPUT_ELSEWHERE');
    for (const f of ['../../secret.txt', '/etc/hostname', 'outputs/../../../secret.txt']) expect(await codeOf(jobs.delivered('j', 'r-1', f, 100)), f).toBe('JOB_E_BAD_REQUEST');
    expect(await codeOf(jobs.delivered('j', 'r-1', 'outputs/link', 100))).toBe('JOB_E_OUTPUT_ELSEWHERE');
    expect(await codeOf(jobs.delivered('j', 'r-3', 'outputs/b.txt', 100))).toBe('JOB_E_OUTPUT_ELSEWHERE');
  });

  it('refuses any file with a ".." part or a leading "/", whatever the record lists', async () => {
    const part = fc.stringMatching(/^[A-Za-z0-9._-]{0,8}$/);
    const escaping = fc.oneof(
      fc.tuple(fc.array(part, { maxLength: 3 }), fc.array(part, { maxLength: 3 })).map(([a, b]) => [...a, '..', ...b].join('/')),
      fc.array(part, { maxLength: 4 }).map((a) => `/${a.join('/')}`),
    );
    await fc.assert(
      fc.asyncProperty(escaping, async (file) => {
        const store = jobs.store;
        await store.save(jobRunFixture('j', 'r-p', { mode: 'nodes', runner: 'manager', delivered: { dir: store.runDir('j', 'r-p'), files: [file] } }));
        expect(await codeOf(jobs.delivered('j', 'r-p', file, 100))).toBe('JOB_E_BAD_REQUEST');
      }),
      { numRuns: 100 },
    );
  });
});
