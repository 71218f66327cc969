import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { replicaFingerprint } from '../../common/node/job-fingerprint.js';
import { JOB_STDERR_TAIL_BYTES, type ReplicaResult } from '../../common/wire/jobs.js';
import { launch } from '../supervisor/launcher.js';
import { signalGroup } from '../supervisor/proc.js';
import { StreamCapture } from './stream-capture.js';

/** Bytes of a replica's stdout kept on disk (for delivery); its hash covers all of it. */
export const STDOUT_KEEP_BYTES = 64 * 1024 * 1024;
const STDERR_KEEP_BYTES = 1024 * 1024;
/** How long to keep reading a replica's streams after it ended (a descendant outside its group may hold them). */
const STREAM_DRAIN_MS = 2000;

/** An input file for a replica: copied from a file, or written from bytes the manager sent. */
export type ReplicaInput = { name: string; from: string } | { name: string; data: Uint8Array };

export interface ReplicaSpec {
  job: string;
  replica: number;
  attempt: number;
  command: string;
  args: readonly string[];
  /** Declared output files, relative to the working directory. */
  outputs: readonly string[];
  timeoutMs: number;
  inputs: readonly ReplicaInput[];
  /** stdin: a file to read, bytes, or nothing. */
  stdin: { from: string } | { data: Uint8Array } | null;
  /** The replica's own folder: its working directory is DIR/work, its captured streams DIR/stdout and DIR/stderr. */
  dir: string;
  /** The agent instance, so that a restarted agent finds and stops an orphaned replica. */
  instance: string;
  env?: Readonly<Record<string, string>>;
  /** Aborting kills the replica's group at once (the agent shuts down). */
  abort?: AbortSignal;
}

export interface ReplicaRun {
  result: ReplicaResult;
  workDir: string;
  stdoutFile: string;
  stdoutTruncated: boolean;
}

/**
 * The hash of a declared output, or null when there is no such regular file inside the working
 * directory (a symbolic link that leads out of it counts as missing: its target is not the replica's).
 */
async function sha256Output(workDir: string, relative: string): Promise<{ sha256: string; bytes: number } | null> {
  let real: string;
  try {
    real = await fsp.realpath(path.join(workDir, relative));
    if (!real.startsWith(`${await fsp.realpath(workDir)}${path.sep}`) || !(await fsp.stat(real)).isFile()) return null;
  } catch {
    return null;
  }
  const h = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of fs.createReadStream(real)) {
      h.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch {
    return null;
  }
  return { sha256: h.digest('hex'), bytes };
}

/** Makes the replica's folder and copies its inputs in; a missing input is the job's fault, not the replica's. */
async function prepare(spec: ReplicaSpec, workDir: string): Promise<void> {
  try {
    await fsp.rm(spec.dir, { recursive: true, force: true });
    await fsp.mkdir(workDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new ArmoryError('JOB_E_SANDBOX', `cannot make the working directory ${workDir}: ${(e as Error).message}`, { job: spec.job });
  }
  for (const input of spec.inputs) {
    const target = path.join(workDir, input.name);
    try {
      if ('from' in input) await fsp.copyFile(input.from, target);
      else await fsp.writeFile(target, input.data, { mode: 0o600 });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if ('from' in input && (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR')) {
        throw new ArmoryError('JOB_E_INPUT_MISSING', `job ${spec.job}: input ${input.from} cannot be read (${err.code})`, { job: spec.job, file: input.from });
      }
      throw new ArmoryError('JOB_E_SANDBOX', `job ${spec.job}: cannot copy input ${input.name} into ${workDir}: ${err.message}`, { job: spec.job });
    }
  }
}

function openStdin(spec: ReplicaSpec): number | undefined {
  if (spec.stdin === null) return undefined;
  if ('from' in spec.stdin) {
    try {
      return fs.openSync(spec.stdin.from, 'r');
    } catch (e) {
      throw new ArmoryError('JOB_E_INPUT_MISSING', `job ${spec.job}: stdin file ${spec.stdin.from} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
        job: spec.job,
        file: spec.stdin.from,
      });
    }
  }
  const file = path.join(spec.dir, 'stdin');
  fs.writeFileSync(file, spec.stdin.data, { mode: 0o600 });
  return fs.openSync(file, 'r');
}

const describeExit = (code: number | null, signal: string | null) => (signal !== null ? `killed by ${signal}` : `exit code ${code ?? '?'}`);

/**
 * Runs one replica in a sandbox of its own: a fresh working directory with the inputs copied in,
 * stdin fed from a file, stdout hashed as it streams (and kept up to a bound), its own process
 * group, killed as a group at the timeout. Whatever the program does, the answer is a result with
 * a status and a reason; only a job that cannot be set up (an input that cannot be read) throws.
 */
export async function runReplica(spec: ReplicaSpec): Promise<ReplicaRun> {
  const workDir = path.join(spec.dir, 'work');
  await prepare(spec, workDir);
  const stdin = openStdin(spec);
  const started = Date.now();
  const base = { replica: spec.replica, exitCode: null, signal: null, stdoutSha256: null, stdoutBytes: 0, outputs: [], fingerprint: null, stderrTail: '' };
  const stdoutFile = path.join(spec.dir, 'stdout');
  if (spec.abort?.aborted) {
    if (stdin !== undefined) fs.closeSync(stdin);
    return { result: { ...base, status: 'failed-to-start', reason: 'not started: the agent shuts down', durationMs: 0 }, workDir, stdoutFile, stdoutTruncated: false };
  }
  let child: ChildProcess;
  try {
    child = launch(
      { command: spec.command, args: [...spec.args], cwd: workDir, env: { ...spec.env } },
      {
        service: `job:${spec.job}`,
        instance: spec.instance,
        stdio: ['pipe', 'pipe'],
        ...(stdin !== undefined ? { stdin } : {}),
        extraEnv: { ARMORY_JOB: spec.job, ARMORY_REPLICA: String(spec.replica), ARMORY_ATTEMPT: String(spec.attempt) },
      },
    );
  } catch (e) {
    const reason = `could not start: ${(e as Error).message}`;
    return { result: { ...base, status: 'failed-to-start', reason, durationMs: Date.now() - started }, workDir, stdoutFile, stdoutTruncated: false };
  } finally {
    // The child holds its own copy of the descriptor.
    if (stdin !== undefined) fs.closeSync(stdin);
  }
  let out: StreamCapture;
  let err: StreamCapture;
  try {
    out = new StreamCapture(child.stdout as NonNullable<ChildProcess['stdout']>, stdoutFile, STDOUT_KEEP_BYTES);
    err = new StreamCapture(child.stderr as NonNullable<ChildProcess['stderr']>, path.join(spec.dir, 'stderr'), STDERR_KEEP_BYTES, JOB_STDERR_TAIL_BYTES);
  } catch (e) {
    // Never leave a replica running that nobody reads or times.
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    throw new ArmoryError('JOB_E_SANDBOX', `job ${spec.job}: cannot capture the output of replica ${spec.replica}: ${(e as Error).message}`, { job: spec.job });
  }
  let timedOut = false;
  const killGroup = () => {
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  };
  const ended = await new Promise<{ code: number | null; signal: string | null } | { error: Error }>((resolve) => {
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, spec.timeoutMs);
    spec.abort?.addEventListener('abort', killGroup, { once: true });
    if (spec.abort?.aborted) killGroup();
    const finish = (v: { code: number | null; signal: string | null } | { error: Error }) => {
      clearTimeout(timer);
      spec.abort?.removeEventListener('abort', killGroup);
      resolve(v);
    };
    child.once('error', (error) => finish({ error }));
    child.once('exit', (code, signal) => finish({ code, signal }));
  });
  // Whatever the program left behind in its group goes with it, so that its streams close; a
  // descendant that left the group may still hold them open: stop reading after a bound.
  killGroup();
  const drained = setTimeout(() => {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }, STREAM_DRAIN_MS);
  await Promise.all([out.done, err.done]);
  clearTimeout(drained);
  const durationMs = Date.now() - started;
  const streams = { stdoutSha256: out.sha256(), stdoutBytes: out.bytes, stderrTail: err.tailText() };
  const done = (result: ReplicaResult): ReplicaRun => ({ result, workDir, stdoutFile, stdoutTruncated: out.truncated });
  if ('error' in ended) return done({ ...base, ...streams, status: 'failed-to-start', reason: `could not start: ${ended.error.message}`, durationMs });
  if (timedOut) {
    return done({ ...base, ...streams, status: 'timed-out', reason: `still running after ${spec.timeoutMs} ms; its process group was killed`, signal: ended.signal, durationMs });
  }
  if (spec.abort?.aborted) return done({ ...base, ...streams, status: 'crashed', reason: 'stopped: the agent shuts down', signal: ended.signal, durationMs });
  if (ended.signal !== null) return done({ ...base, ...streams, status: 'crashed', reason: describeExit(null, ended.signal), signal: ended.signal, durationMs });
  const exitCode = ended.code ?? 0;
  const outputs = await Promise.all(
    spec.outputs.map(async (p) => {
      const h = await sha256Output(workDir, p);
      return { path: p, sha256: h?.sha256 ?? null, bytes: h?.bytes ?? null };
    }),
  );
  const missing = outputs.filter((o) => o.sha256 === null).map((o) => o.path);
  const fingerprint = replicaFingerprint({ exitCode, stdoutSha256: streams.stdoutSha256, outputs });
  const reason = `${describeExit(exitCode, null)}${missing.length > 0 ? `; missing output ${missing.join(', ')}` : ''}`;
  return done({ ...base, ...streams, status: 'exited', reason, exitCode, outputs, fingerprint, durationMs });
}
