import { z } from 'zod';
import { name } from './names.js';
import { duration } from './units.js';

export const nodeSchema = z
  .strictObject({
    address: z.string().min(1).max(253).describe('Host name or IP address the manager and peers reach the node at.'),
    agentPort: z.number().int().min(1).max(65535).default(7443).describe('TCP port of the node\'s agent (mutual TLS).'),
    sshPort: z.number().int().min(1).max(65535).default(22).describe('SSH port used for enrollment.'),
    labels: z.record(z.string().max(63), z.string().max(255)).default({}).describe('Free-form labels shown in the GUI.'),
  })
  .describe('A node of the cluster.');

export const groupSchema = z
  .strictObject({
    members: z
      .array(
        z.strictObject({
          node: name('node').describe('A member node.'),
          priority: z.number().int().min(0).max(255).default(100).describe('Higher priority wins the election.'),
        }),
      )
      .min(1)
      .max(16)
      .describe('Nodes that can carry the group\'s services.'),
    services: z.array(name('service')).min(1).describe('Services (and their virtual IPs) the group carries.'),
    witness: name('node').optional().describe('An extra voter for groups with an even number of members.'),
    heartbeat: duration({ min: 10, max: 60_000 }).prefault('100ms').describe('Interval of peer heartbeats.'),
    failAfter: duration({ min: 30, max: 600_000 }).prefault('300ms').describe('A peer silent for this long counts as failed.'),
    failback: z.enum(['auto', 'manual']).default('manual').describe('Move back to a recovered higher-priority node automatically, or only on a click.'),
    failbackAfter: duration().prefault('1m').describe('With automatic failback: how long the recovered node must be stable first.'),
  })
  .superRefine((g, ctx) => {
    if (g.failAfter < 2 * g.heartbeat) {
      ctx.addIssue({ code: 'custom', path: ['failAfter'], message: 'failAfter must be at least twice the heartbeat interval' });
    }
  })
  .describe('A failover group.');

const absolutePath = z.string().min(2).max(4096).regex(/^\//, 'must be an absolute path (it is read on the machine that starts the job)');
const outputPath = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'an output is a path inside the replica\'s working directory: relative, without ".."');
const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

export const jobSchema = z
  .strictObject({
    command: z.string().min(1).max(4096).describe('The batch command each replica runs (found in PATH, or a path; "./x" is a file of the replica\'s working directory, e.g. an input).'),
    args: z.array(z.string().max(65_536)).max(1024).default([]).describe('Arguments passed to the command.'),
    replicas: z.number().int().min(1).max(15).default(3).describe('How many replicas run.'),
    quorum: z.number().int().min(1).max(15).default(2).describe('Matching results needed to accept an outcome (k of n).'),
    on: z.enum(['local', 'nodes']).default('local').describe('Run replicas as local sandboxes or on separate nodes.'),
    nodes: z.array(name('node')).max(64).default([]).describe('With on: nodes, the nodes replicas may run on, in order of preference; empty means every enrolled node.'),
    inputs: z.array(absolutePath).max(64).default([]).describe('Input files (absolute paths) copied into each replica\'s working directory under their own names.'),
    outputs: z.array(outputPath).max(64).default([]).describe('Output files (relative to the replica\'s working directory) hashed and voted on; the winner\'s are delivered.'),
    stdin: absolutePath.optional().describe('File (absolute path) fed to each replica\'s standard input.'),
    timeout: duration({ min: 100 }).prefault('10m').describe('A replica running longer is killed and counted as dissenting.'),
    retries: z.number().int().min(0).max(10).default(1).describe('Re-runs when no majority is reached.'),
  })
  .superRefine((j, ctx) => {
    if (j.quorum > j.replicas) ctx.addIssue({ code: 'custom', path: ['quorum'], message: 'quorum cannot exceed replicas' });
    const seen = new Set<string>();
    j.inputs.forEach((p, i) => {
      const b = baseName(p);
      if (b === '' || b === '.' || b === '..') ctx.addIssue({ code: 'custom', path: ['inputs', i], message: 'an input must name a file' });
      else if (seen.has(b)) ctx.addIssue({ code: 'custom', path: ['inputs', i], message: `two inputs are both named "${b}" in the working directory` });
      seen.add(b);
    });
    if (new Set(j.outputs).size !== j.outputs.length) ctx.addIssue({ code: 'custom', path: ['outputs'], message: 'an output is listed twice' });
    if (j.on === 'nodes' && j.nodes.length > 0 && j.nodes.length < j.replicas) {
      ctx.addIssue({ code: 'custom', path: ['nodes'], message: `${j.replicas} replicas need at least ${j.replicas} nodes to run on` });
    }
  })
  .describe('A redundant batch job.');

export type NodeConfig = z.output<typeof nodeSchema>;
export type GroupConfig = z.output<typeof groupSchema>;
export type JobConfig = z.output<typeof jobSchema>;
