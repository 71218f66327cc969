import type { JobRun } from '../../common/wire/jobs.js';

/** A kept run of a job as the result store holds it: succeeded, 2 of 3, no attempts unless given. */
export function jobRunFixture(job: string, id: string, over: Partial<JobRun> = {}): JobRun {
  return {
    id,
    job,
    mode: 'local',
    runner: 'local',
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    outcome: 'succeeded',
    quorum: 2,
    replicas: 3,
    exitCode: 0,
    winner: null,
    attempts: [],
    delivered: null,
    error: null,
    summary: `job ${job} succeeded`,
    ...over,
  };
}
