import fs from 'node:fs';
import path from 'node:path';
import type { JobConfig } from '../../../common/config/cluster.js';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { JOB_TRANSFER_LIMIT } from '../../../common/wire/jobs.js';

/** What every replica of a nodes-mode job is fed, ready for the wire. */
export interface JobPayload {
  stdin?: string;
  inputs: { name: string; data: string }[];
}

/**
 * Reads a job's input files and stdin on the manager's machine, once, for every node alike. Sizes
 * are checked before anything is read: more than JOB_TRANSFER_LIMIT bytes cannot be sent to a node.
 */
export function readJobPayload(name: string, spec: JobConfig): JobPayload {
  const files = [...spec.inputs, ...(spec.stdin !== undefined ? [spec.stdin] : [])];
  let total = 0;
  for (const file of files) {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
      fs.accessSync(file, fs.constants.R_OK);
    } catch (e) {
      throw new ArmoryError('JOB_E_INPUT_MISSING', `job ${name}: ${file === spec.stdin ? 'stdin file' : 'input'} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { job: name, file });
    }
    if (!st.isFile()) throw new ArmoryError('JOB_E_INPUT_MISSING', `job ${name}: ${file} is not a regular file`, { job: name, file });
    total += st.size;
  }
  if (total > JOB_TRANSFER_LIMIT) {
    throw new ArmoryError('JOB_E_INPUT_TOO_LARGE', `job ${name}: its inputs and stdin are ${total} bytes; at most ${JOB_TRANSFER_LIMIT} bytes (512 KiB) can be sent to the nodes`, {
      job: name,
      bytes: total,
      limit: JOB_TRANSFER_LIMIT,
    });
  }
  const read = (file: string) => {
    const data = fs.readFileSync(file);
    // A file that grew between the check and the read must not slip past the bound.
    if (data.length > JOB_TRANSFER_LIMIT) throw new ArmoryError('JOB_E_INPUT_TOO_LARGE', `job ${name}: ${file} grew past ${JOB_TRANSFER_LIMIT} bytes`, { job: name, file });
    return data.toString('base64');
  };
  return {
    inputs: spec.inputs.map((f) => ({ name: path.basename(f), data: read(f) })),
    ...(spec.stdin !== undefined ? { stdin: read(spec.stdin) } : {}),
  };
}
