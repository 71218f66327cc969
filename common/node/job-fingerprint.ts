import { createHash } from 'node:crypto';
import type { JobConfig } from '../config/cluster.js';

export interface FingerprintParts {
  exitCode: number;
  stdoutSha256: string;
  /** Every declared output in declared order; a missing file has sha256 null. */
  outputs: readonly { path: string; sha256: string | null }[];
}

/**
 * A replica's fingerprint: sha256 over its exit code, the sha256 of its stdout and the sha256 of
 * each declared output file ("missing" for one it did not leave). Replicas agree when these are equal.
 */
export function replicaFingerprint(parts: FingerprintParts): string {
  const h = createHash('sha256');
  h.update(`armory-replica-v1\nexit ${parts.exitCode}\nstdout ${parts.stdoutSha256}\n`);
  for (const o of parts.outputs) h.update(`output ${JSON.stringify(o.path)} ${o.sha256 ?? 'missing'}\n`);
  return h.digest('hex');
}

/** sha256 of a job's configuration entry, so that the manager and a node can tell they run the same job. */
export function jobSpecSha256(spec: JobConfig): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex');
}
