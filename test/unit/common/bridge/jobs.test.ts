import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jobProgressSchema, jobsDomain } from '../../../../common/bridge/jobs.js';
import { NAME_PATTERN } from '../../../../common/config/names.js';

const { methods } = jobsDomain;
const issues = (schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[] }[] } } }, v: unknown) => {
  const r = schema.safeParse(v);
  return r.success ? null : (r.error?.issues ?? []).map((i) => i.path.join('.'));
};

describe('the jobs domain of the bridge contract', () => {
  it('takes a job name and an optional node to run, and nothing else', () => {
    expect(methods.run.params.parse({ name: 'odd-one' })).toEqual({ name: 'odd-one' });
    expect(methods.run.params.parse({ name: 'sort', node: 'h1' })).toEqual({ name: 'sort', node: 'h1' });
    expect(issues(methods.run.params, { name: '../etc' })).toEqual(['name']);
    expect(issues(methods.run.params, { name: 'Sort' })).toEqual(['name']);
    expect(issues(methods.run.params, { name: 'sort', node: 'h 1' })).toEqual(['node']);
    expect(issues(methods.run.params, { name: 'sort', force: true })).toEqual(['']);
    expect(issues(methods.run.params, undefined)).toEqual(['']);
  });

  it('bounds the results asked for and refuses run ids and file names that could leave the results folder', () => {
    expect(methods.results.params.parse({})).toEqual({ limit: 20 });
    expect(issues(methods.results.params, { limit: 0 })).toEqual(['limit']);
    expect(issues(methods.results.params, { limit: 201 })).toEqual(['limit']);
    expect(issues(methods.results.params, { limit: 1.5 })).toEqual(['limit']);
    expect(methods.result.params.parse({ job: 'j', id: '20261123-133439091-vjsl1c' })).toBeTruthy();
    for (const id of ['../x', 'a/b', '', 'x'.repeat(65), 'a.b']) expect(issues(methods.result.params, { job: 'j', id }), id).toEqual(['id']);
    expect(issues(methods.output.params, { job: 'j', id: 'r', file: '' })).toEqual(['file']);
    expect(issues(methods.output.params, { job: 'j', id: 'r', file: 'x'.repeat(1025) })).toEqual(['file']);
  });

  it('accepts only run ids that name one folder of the results store, and job names that are one folder too', () => {
    const folder = /^[0-9A-Za-z-]{1,64}$/;
    const idLike = fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[0-9A-Za-z._/\\-]{0,66}$/), fc.stringMatching(/^[a-z0-9._-]{1,8}$/));
    fc.assert(
      fc.property(idLike, idLike, (job, id) => {
        const r = methods.result.params.safeParse({ job, id });
        if (!r.success) return;
        expect(r.data.id).toMatch(folder);
        expect(r.data.job).toMatch(NAME_PATTERN);
        expect(r.data.job).not.toMatch(/^\.\.?$/);
        // One component each: the run's folder is inside the store's root, whatever the input.
        expect(path.posix.join('/root', r.data.job, r.data.id)).toBe(`/root/${r.data.job}/${r.data.id}`);
        expect(methods.output.params.safeParse({ job, id, file: 'stdout' }).success).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('describes a run in progress, ended with a result, or ended with a coded error', () => {
    const base = { runId: 'gui-1', job: 'j', mode: 'local', runner: 'local', startedAt: 't', attempt: null, summary: 's', resultId: null, result: null, error: null };
    expect(jobProgressSchema.safeParse({ ...base, state: 'running' }).success).toBe(true);
    expect(jobProgressSchema.safeParse({ ...base, state: 'error', error: { code: 'JOB_E_NO_NODES', message: 'none' } }).success).toBe(true);
    expect(issues(jobProgressSchema, { ...base, state: 'paused' })).toEqual(['state']);
    expect(issues(jobProgressSchema, { ...base, state: 'running', attempt: 0 })).toEqual(['attempt']);
  });
});
