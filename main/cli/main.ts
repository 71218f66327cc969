import fs from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { intFlag, parseCommandLine } from '../../common/node/cli-args.js';
import { serviceMetrics } from '../../common/wire/metrics.js';
import { formatJobRun, jobExitCode } from '../../common/jobs/format-run.js';
import { formatDiff } from '../core/config-diff.js';
import { availability } from '../core/events/availability.js';
import type { SshAuth } from '../core/enrollment/ssh-session.js';
import type { ProgressEvent } from '../core/enrollment/step-runner.js';
import { Manager } from '../core/manager.js';
import { formatGroups } from './groups-view.js';
import { drillCommand } from './drill-command.js';
import { enrollRemoteNode, removeRemoteNode } from '../core/remote-nodes.js';
import { runConsole } from '../console/run-console.js';

const USAGE = `armory: the Armory manager (cluster, configuration, events)

usage:
  armory node add local [--agent-port N]      enroll this machine (starts its agent)
  armory node add USER@HOST [--port N] [--identity FILE | --password-stdin] [--trust SHA256:…]
                  [--name NODE] [--agent-port N] [--yes]
                                              enroll a Linux host over SSH (key file, password on
                                              stdin, or ssh-agent); the host key is shown and pinned
  armory node ls [--json]                     enrolled nodes and whether they answer
  armory node rm NODE [--yes] [--identity FILE | --password-stdin]
                                              stop a node's programs, remove its agent, forget it
  armory apply FILE.yaml [--dry-run] [--yes]  validate, diff, sign and push a configuration
  armory status [--json]                      every node's services and failover groups
  armory groups [--json]                      failover groups: active node, epoch, heartbeats, budget
  armory move SERVICE NODE                    move a service (and its failover group) to a member node
  armory node drain NODE [--off]              the node steps down from every group (--off: available again)
  armory events [--json] [--node N] [--service S] [--from TIME] [--until TIME] [--limit N] [--follow]
                                              the cluster's event journal (gathered from every agent)
  armory metrics                              Prometheus text for every node's services
  armory job run NAME [--json] [--node N]     run a redundant job: its replicas on nodes, or as sandboxes of one
                                              node; prints the vote (k of n) and every replica; exit 1 unless
                                              the replicas agree on success
  armory job results NAME [--json] [--limit N]
                                              the kept runs of a job, newest first
  armory drill SERVICE --fault kill|hang|agent-kill|link-down|partition [--duration 5s] [--force] [--json]
                                              inject a fault where the service runs, probe its address every
                                              10 ms, and report detection, recovery and client outage against
                                              the failover budget; refused without a ready standby unless --force
  armory drill --list [--service S] [--limit N] [--json] | --show ID [--json]
                                              the kept drill reports
  armory console [--port N] [--agent-port N]  the GUI in a browser: serves it on 127.0.0.1 (default: a
                                              free port) behind a session token printed in its URL

The manager keeps its data in $ARMORY_HOME, else $XDG_CONFIG_HOME/armory, else ~/.config/armory.
exit codes: 0 ok, 1 refused or failed, 2 bad command line or configuration`;

const OPTIONS = {
  json: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  'dry-run': { type: 'boolean' },
  'agent-port': { type: 'string' },
  port: { type: 'string', short: 'p' },
  identity: { type: 'string', short: 'i' },
  'password-stdin': { type: 'boolean' },
  trust: { type: 'string' },
  name: { type: 'string' },
  'install-root': { type: 'string' },
  node: { type: 'string' },
  service: { type: 'string' },
  from: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  off: { type: 'boolean' },
  fault: { type: 'string' },
  duration: { type: 'string' },
  force: { type: 'boolean' },
  list: { type: 'boolean' },
  show: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const out = (s: string) => process.stdout.write(`${s}\n`);

function usage(message: string): never {
  throw new ArmoryError('CLI_E_USAGE', `${message}\n\n${USAGE}`);
}

/** The repository (bundle) root, from dist/armory.js: what enrollment uploads comes from here. */
const BUNDLE_DIR = path.resolve(import.meta.dirname, '..');
const AGENT_BIN = path.join(BUNDLE_DIR, 'bin/armory-agent.js');

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
        const groups = s.some((n) => (n.failover ?? []).length > 0) ? await manager.groups() : [];
        if (values.json) out(JSON.stringify({ nodes: s, groups }, null, 2));
        else {
          for (const n of s) {
            out(`${n.node} (${n.address}) ${n.reachable ? 'answers' : `UNREACHABLE: ${n.error}`}`);
            for (const svc of n.services) out(`  ${svc.name.padEnd(16)} ${svc.state.padEnd(12)} ready=${svc.ready ? 'yes' : 'no'} pid=${svc.pid ?? '-'} restarts=${svc.restarts}  ${svc.reason.split('\n')[0]}`);
          }
          for (const line of groups.length > 0 ? formatGroups(groups) : []) out(line);
        }
        return s.every((n) => n.reachable) ? 0 : 1;
      }
      case 'groups': {
        const groups = await manager.groups();
        if (values.json) out(JSON.stringify({ groups }, null, 2));
        else for (const line of formatGroups(groups)) out(line);
        return 0;
      }
      case 'move': {
        if (rest.length !== 2) usage('move takes SERVICE NODE');
        const r = await manager.move(rest[0] as string, rest[1] as string);
        for (const p of r) out(`${p.ok ? 'ok  ' : 'FAIL'} ${p.node}: ${p.message}`);
        return r.some((p) => p.ok) ? 0 : 1;
      }
      case 'events': {
        const limit = intFlag(values.limit, 'limit', 50, 1, 100_000, USAGE);
        const collect = async () => {
          for (const node of Object.keys(manager.inventory.data.nodes)) await manager.collectEvents(node).catch(() => 0);
        };
        await collect();
        for (const [flag, v] of [['from', values.from], ['until', values.until]] as const) {
          if (v !== undefined && Number.isNaN(Date.parse(v))) usage(`--${flag} takes a date and time, like 2026-11-23T08:00:00Z`);
        }
        const query = {
          ...(values.node ? { node: values.node } : {}),
          ...(values.service ? { service: values.service } : {}),
          ...(values.from ? { from: values.from } : {}),
          ...(values.until ? { until: values.until } : {}),
        };
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
      case 'console':
        if (rest.length > 0) usage('console takes no arguments');
        return await runConsole(manager, {
          port: intFlag(values.port, 'port', 0, 0, 65535, USAGE),
          localAgentPort: intFlag(values['agent-port'], 'agent-port', 7443, 1, 65535, USAGE),
          bundleDir: BUNDLE_DIR,
          agentBin: AGENT_BIN,
          out,
        });
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
      case 'job': {
        const [sub, name, ...extra] = rest;
        if ((sub !== 'run' && sub !== 'results') || name === undefined || extra.length > 0) usage('job takes run NAME or results NAME');
        if (sub === 'run') {
          const run = await manager.jobs.run(name, values.node !== undefined ? { node: values.node } : {});
          out(values.json ? JSON.stringify(run, null, 2) : formatJobRun(run));
          return jobExitCode(run);
        }
        const runs = manager.jobs.results(name, intFlag(values.limit, 'limit', 10, 1, 1000, USAGE));
        if (values.json) out(JSON.stringify({ runs }, null, 2));
        else out(runs.length === 0 ? `job ${name}: no runs kept yet` : runs.map(formatJobRun).join('\n\n'));
        return 0;
      }
      case 'drill':
        return await drillCommand(manager, rest, values, USAGE);
      default:
        usage(`unknown command "${command}"`);
    }
  } finally {
    manager.close();
  }
}

type NodeFlags = {
  json?: boolean;
  yes?: boolean;
  'agent-port'?: string;
  port?: string;
  identity?: string;
  'password-stdin'?: boolean;
  trust?: string;
  name?: string;
  'install-root'?: string;
  off?: boolean;
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function sshAuth(values: NodeFlags): Promise<SshAuth> {
  if (values.identity !== undefined && values['password-stdin']) usage('give --identity or --password-stdin, not both');
  if (values.identity !== undefined) {
    const passphrase = process.env.ARMORY_SSH_PASSPHRASE;
    return passphrase ? { keyFile: path.resolve(values.identity), passphrase } : { keyFile: path.resolve(values.identity) };
  }
  if (values['password-stdin']) {
    const password = await readStdin();
    if (password.length === 0) usage('--password-stdin read an empty password');
    return { password };
  }
  if (process.env.SSH_AUTH_SOCK) return { agent: true };
  usage('no way to log in: give --identity FILE, --password-stdin, or run an ssh-agent (SSH_AUTH_SOCK)');
}

function confirmer(values: NodeFlags): (fingerprint: string) => Promise<boolean> {
  return async (fingerprint) => {
    out(`host key fingerprint: ${fingerprint}`);
    if (values.yes) return true;
    if (!process.stdin.isTTY) {
      throw new ArmoryError('ENROLL_E_HOST_KEY_REJECTED', `the host key ${fingerprint} was not confirmed: check it and pass --trust ${fingerprint} (or --yes)`);
    }
    process.stdout.write('Is this the host you mean? Pin this key and go on? [y/N] ');
    const answer = await new Promise<string>((resolve) => process.stdin.once('data', (d: Buffer) => resolve(d.toString().trim())));
    return /^y(es)?$/i.test(answer);
  };
}

const printProgress = (e: ProgressEvent) => {
  if (e.status === 'running' && e.detail === '') return;
  out(`${e.phase === 'rollback' ? 'undo ' : ''}${e.step.padEnd(12)} ${e.status.padEnd(12)} ${e.detail}${e.status === 'running' ? '' : ` (${e.ms} ms)`}`);
};

function nodeNameFor(host: string): string {
  const n = host.toLowerCase().replace(/[^a-z0-9._-]/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63);
  return n.length > 0 ? n : 'node';
}

async function addRemote(manager: Manager, target: string, values: NodeFlags): Promise<number> {
  const m = /^([a-z_][a-z0-9_-]*\$?)@(.+)$/i.exec(target);
  if (!m) usage(`node add takes local or USER@HOST, not "${target}"`);
  const [, user, host] = m as unknown as [string, string, string];
  const node = values.name ?? nodeNameFor(host);
  const r = await enrollRemoteNode(
    manager,
    {
      node,
      host,
      port: intFlag(values.port, 'port', 22, 1, 65535, USAGE),
      user,
      auth: await sshAuth(values),
      ...(values.trust !== undefined ? { trust: values.trust } : {}),
      confirmHostKey: confirmer(values),
      ...(values['install-root'] !== undefined ? { installRoot: path.resolve(values['install-root']) } : {}),
    },
    { agentPort: intFlag(values['agent-port'], 'agent-port', 7443, 1, 65535, USAGE), bundleDir: BUNDLE_DIR },
    printProgress,
  );
  if (r.ok) {
    out(`${node}: enrolled (${r.profile.os ?? 'Linux'} ${r.profile.arch ?? ''}, host key ${r.hostKey} pinned); its agent answers over mutual TLS`);
    for (const w of r.warnings) out(`warning: ${w}`);
    return 0;
  }
  out(`${node}: enrollment failed at ${r.failedStep}: ${r.error.message} [${r.error.code}]`);
  out(`rolled back: ${r.rolledBack.join(', ') || 'nothing to undo'}${r.undoFailed.length ? `; could not undo: ${r.undoFailed.map((u) => `${u.step} (${u.error.message})`).join(', ')}` : ''}`);
  return 1;
}

async function nodeCommand(manager: Manager, args: string[], values: NodeFlags): Promise<number> {
  const [sub, target, ...extra] = args;
  switch (sub) {
    case 'add': {
      if (target === undefined || extra.length > 0) usage('node add takes local or USER@HOST');
      if (target !== 'local') return addRemote(manager, target, values);
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
      if (target === 'local') {
        await manager.removeLocalNode();
        out(`${target}: removed`);
        return 0;
      }
      const r = await removeRemoteNode(manager, { node: target, auth: await sshAuth(values) }, printProgress);
      if (r.ok) {
        out(`${target}: removed; nothing of Armory is left on it`);
        return 0;
      }
      out(`${target}: removal stopped at ${r.failedStep}: ${r.error.message} [${r.error.code}]`);
      return 1;
    }
    case 'drain': {
      if (target === undefined || extra.length > 0) usage('node drain takes one node name');
      manager.node(target);
      out(`${target}: ${await manager.drain(target, !values.off)}`);
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
