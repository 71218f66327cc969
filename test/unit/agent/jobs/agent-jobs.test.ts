import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentJobs, MAX_ACTIVE_REPLICAS } from '../../../../agent/jobs/agent-jobs.js';
import { parseConfigText } from '../../../../common/config/load.js';
import { ArmoryError } from '../../../../common/errors/armory-error.js';
import type { AgentEventInput } from '../../../../common/wire/service-status.js';

let dir = '';
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('AgentJobs', () => {
  it(`runs at most ${MAX_ACTIVE_REPLICAS} replicas at once and refuses more with JOB_E_BUSY`, async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-aj-'));
    const parsed = parseConfigText('jobs:\n  many:\n    command: /bin/true\n    replicas: 15\n    quorum: 8\n    timeout: 10s\n');
    if (!parsed.ok) throw new Error('bad test config');
    const events: AgentEventInput[] = [];
    const jobs = new AgentJobs({ stateDir: dir, instance: () => 'test', jobs: () => parsed.config.jobs, journal: (e) => events.push(e) });
    const fits = Math.floor(MAX_ACTIVE_REPLICAS / 15);
    const runs = Array.from({ length: fits + 1 }, () => jobs.run('many').then((r) => r.outcome, (e: unknown) => (e instanceof ArmoryError ? e.code : String(e))));
    const outcomes = await Promise.all(runs);
    expect(outcomes).toEqual([...Array.from({ length: fits }, () => 'succeeded'), 'JOB_E_BUSY']);
    // The slots are free again.
    expect(await jobs.run('many').then((r) => r.outcome)).toBe('succeeded');
    expect(jobs.results('many', 100).runs).toHaveLength(fits + 1);
    expect(events.filter((e) => /succeeded: 15 of 15 agree/.test(e.reason))).toHaveLength(fits + 1);
  }, 60_000);
});
