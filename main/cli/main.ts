import fs from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { intFlag, parseCommandLine } from '../../common/node/cli-args.js';
import { serviceMetrics } from '../../common/wire/metrics.js';
import { formatDiff } from '../core/config-diff.js';
import { availability } from '../core/events/availability.js';
import { Manager } from '../core/manager.js';

const USAGE = `armory: the Armory manager (cluster, configuration, events)

usage:
  armory node add local [--agent-port N]      enroll this machine (starts its agent)
  armory node ls [--json]                     enrolled nodes and whether they answer
  armory node rm NODE [--yes]                 stop a node's programs and agent, forget it
  armory apply FILE.yaml [--dry-run] [--yes]  validate, diff, sign and push a configuration
  armory status [--json]                      every node's services
  armory events [--json] [--node N] [--service S] [--limit N] [--follow]
                                              the cluster's event journal (gathered from every agent)
  armory metrics                              Prometheus text for every node's services

The manager keeps its data in $ARMORY_HOME, else $XDG_CONFIG_HOME/armory, else ~/.config/armory.
exit codes: 0 ok, 1 refused or failed, 2 bad command line or configuration`;

const OPTIONS = {
  json: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  'dry-run': { type: 'boolean' },
  'agent-port': { type: 'string' },
  node: { type: 'string' },
  service: { type: 'string' },
  limit: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  help: { type: 'boolean', short: 'h' },
} as const;

const out = (s: string) => process.stdout.write(`${s}\n`);

function usage(message: string): never {
  throw new ArmoryError('CLI_E_USAGE', `${message}\n\n${USAGE}`);
}

const AGENT_BIN = path.resolve(import.meta.dirname, '../bin/armory-agent.js');

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, USAGE);
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') return (out(USAGE), 0);
  const manager = new Manager();
  await manager.open();
  try {
    switch (command) {
      case 'node':
        return await nodeCommand(manager, rest, values);
      case 'apply': {
        if (rest.length !== 1) usage('apply takes one file');
        const file = rest[0] as string;
        let yaml: string;
        try {
          yaml = fs.readFileSync(file, 'utf8');
        } catch (e) {
          throw new ArmoryError('CONFIG_E_UNREADABLE', `cannot read ${file}: ${(e as Error).message}`);
        }
        const dry = await manager.apply(yaml, { dryRun: true, file });
        out(formatDiff(dry.diff));
        for (const w of dry.warnings) out(`warning: ${w}`);
        if (values['dry-run']) return 0;
        const r = await manager.apply(yaml, { file });
        out(`signed configuration v${r.version}`);
        for (const p of r.pushed) out(`${p.ok ? 'ok  ' : 'FAIL'} ${p.node}: ${p.message}`);
        return r.pushed.every((p) => p.ok) ? 0 : 1;
      }
      case 'status': {
        const s = await manager.status();
        if (values.json) out(JSON.stringify({ nodes: s }, null, 2));
        else
          for (const n of s) {
            out(`${n.node} (${n.address}) ${n.reachable ? 'answers' : `UNREACHABLE: ${n.error}`}`);
            for (const svc of n.services) out(`  ${svc.name.padEnd(16)} ${svc.state.padEnd(12)} ready=${svc.ready ? 'yes' : 'no'} pid=${svc.pid ?? '-'} restarts=${svc.restarts}  ${svc.reason.split('\n')[0]}`);
          }
        return s.every((n) => n.reachable) ? 0 : 1;
      }
      case 'events': {
        const limit = intFlag(values.limit, 'limit', 50, 1, 100_000, USAGE);
        const collect = async () => {
          for (const node of Object.keys(manager.inventory.data.nodes)) await manager.collectEvents(node).catch(() => 0);
        };
        await collect();
        const query = { ...(values.node ? { node: values.node } : {}), ...(values.service ? { service: values.service } : {}) };
        let shown = 0;
        const print = (list: ReturnType<Manager['readEvents']>) => {
          for (const e of list) {
            out(values.json ? JSON.stringify(e) : `${e.time}  ${e.node.padEnd(10)} ${(e.service ?? '-').padEnd(14)} ${e.kind.padEnd(10)} ${e.from && e.to ? `${e.from} → ${e.to}: ` : ''}${e.reason}`);
            shown = Math.max(shown, e.seq);
          }
        };
        print(manager.readEvents({ ...query, limit }));
        if (!values.follow) return 0;
        for (;;) {
          await new Promise((r) => setTimeout(r, 500));
          await collect();
          print(manager.readEvents({ ...query, since: shown }));
        }
      }
      case 'metrics': {
        const s = await manager.status();
        const now = Date.now();
        for (const n of s) process.stdout.write(serviceMetrics(n.services, { node: n.node }));
        out('# HELP armory_service_availability Fraction of the last 24 h the service was up, from the event journal.');
        out('# TYPE armory_service_availability gauge');
        const byService = new Map<string, { time: number; to: string }[]>();
        for (const e of manager.readEvents({ limit: 100_000 })) {
          if (e.kind !== 'transition' || !e.service || !e.to) continue;
          const key = `${e.node}\0${e.service}`;
          byService.set(key, [...(byService.get(key) ?? []), { time: Date.parse(e.time), to: e.to }]);
        }
        for (const [key, changes] of byService) {
          const [node, service] = key.split('\0') as [string, string];
          const a = availability(changes, now - 86_400_000, now);
          if (a.availability !== null) out(`armory_service_availability{node="${node}",service="${service}"} ${a.availability.toFixed(6)}`);
        }
        return 0;
      }
      default:
        usage(`unknown command "${command}"`);
    }
  } finally {
    manager.close();
  }
}

async function nodeCommand(manager: Manager, args: string[], values: { json?: boolean; yes?: boolean; 'agent-port'?: string }): Promise<number> {
  const [sub, target, ...extra] = args;
  switch (sub) {
    case 'add': {
      if (target !== 'local' || extra.length > 0) usage('node add takes "local" (enrollment of other hosts over SSH: armory node add USER@HOST, coming next)');
      const port = intFlag(values['agent-port'], 'agent-port', 7443, 1, 65535, USAGE);
      const rec = await manager.addLocalNode({ agentPort: port, agentBin: AGENT_BIN });
      out(`local: enrolled; its agent answers on ${rec.address}:${rec.agentPort} (certificate ${rec.certificateFingerprint.slice(0, 23)}…)`);
      return 0;
    }
    case 'ls': {
      const s = await manager.status();
      if (values.json) {
        out(JSON.stringify({ nodes: s.map((n) => ({ name: n.node, address: n.address, reachable: n.reachable, services: n.services.length, ...(n.error ? { error: n.error } : {}) })) }, null, 2));
      } else if (s.length === 0) {
        out('no nodes enrolled (armory node add local)');
      } else {
        for (const n of s) out(`${n.node.padEnd(12)} ${n.address.padEnd(16)} ${n.reachable ? 'answers' : 'UNREACHABLE'}  ${n.services.length} services`);
      }
      return 0;
    }
    case 'rm': {
      if (target === undefined || extra.length > 0) usage('node rm takes one node name');
      manager.node(target);
      if (!values.yes) usage(`node rm stops every program of ${target} and removes its agent: confirm with --yes`);
      if (target !== 'local') usage('removal of remote nodes comes with SSH enrollment');
      await manager.removeLocalNode();
      out(`${target}: removed`);
      return 0;
    }
    default:
      usage(`unknown node command "${sub ?? ''}"`);
  }
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof ArmoryError && (e.code === 'CLI_E_USAGE' || e.code.startsWith('CONFIG_E'))) return 2;
  return 1;
}
