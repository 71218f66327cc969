import { z } from 'zod';
import { groupSchema, jobSchema, nodeSchema } from './cluster.js';
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
    const nodes = new Set(Object.keys(doc.nodes));
    const services = new Set(Object.keys(doc.services));
    for (const [svcName, svc] of Object.entries(doc.services)) {
      svc.placement.nodes.forEach((n, i) => {
        if (!nodes.has(n)) ctx.addIssue({ code: 'custom', path: ['services', svcName, 'placement', 'nodes', i], message: `unknown node "${n}"` });
      });
    }
    for (const [groupName, g] of Object.entries(doc.groups)) {
      g.members.forEach((m, i) => {
        if (!nodes.has(m.node)) ctx.addIssue({ code: 'custom', path: ['groups', groupName, 'members', i, 'node'], message: `unknown node "${m.node}"` });
      });
      g.services.forEach((s, i) => {
        if (!services.has(s)) ctx.addIssue({ code: 'custom', path: ['groups', groupName, 'services', i], message: `unknown service "${s}"` });
      });
      if (g.witness !== undefined && !nodes.has(g.witness)) {
        ctx.addIssue({ code: 'custom', path: ['groups', groupName, 'witness'], message: `unknown node "${g.witness}"` });
      }
    }
  })
  .describe('The desired state of an Armory cluster.');

export type ArmoryConfig = z.output<typeof configSchema>;
export type ArmoryConfigInput = z.input<typeof configSchema>;
