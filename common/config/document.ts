import { z } from 'zod';
import { groupSchema, jobSchema, nodeSchema } from './cluster.js';
import { crossCheck } from './cross-check.js';
import { name } from './names.js';
import { serviceSchema } from './service.js';

export const CONFIG_VERSION = 1;

export const configSchema = z
  .strictObject({
    version: z.literal(CONFIG_VERSION).default(CONFIG_VERSION).describe('Version of the configuration format.'),
    nodes: z.record(name('node'), nodeSchema).default({}).describe('Nodes of the cluster, by name.'),
    services: z.record(name('service'), serviceSchema).default({}).describe('Programs Armory keeps running, by name.'),
    groups: z.record(name('group'), groupSchema).default({}).describe('Failover groups, by name.'),
    jobs: z.record(name('job'), jobSchema).default({}).describe('Redundant batch jobs, by name.'),
  })
  .superRefine((doc, ctx) => {
    for (const issue of crossCheck(doc)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  })
  .describe('The desired state of an Armory cluster.');

export type ArmoryConfig = z.output<typeof configSchema>;
export type ArmoryConfigInput = z.input<typeof configSchema>;
