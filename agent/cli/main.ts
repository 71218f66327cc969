import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { formatProblems, parseConfigText } from '../../common/config/load.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { intFlag, parseCommandLine } from '../../common/node/cli-args.js';
import type { AgentEvent } from '../../common/wire/service-status.js';
import type { Logger } from 'pino';
import { Agent, type AgentOptions } from '../agent.js';
import { loadTlsMaterial } from '../api/tls-server.js';
import { SignedConfigSource } from '../config-source/signed-source.js';
import { FileConfigSource } from '../config-source/file-source.js';
import { ControlClient } from '../../common/node/rpc-client.js';
import { runKeeper } from '../keeper/keeper.js';
import { releaseDeadAgent } from '../keeper/release-dead-agent.js';
import { stateDirLayout } from '../state-dir.js';
import { startSystemdNotify } from '../systemd-notify.js';
import { AGENT_VERSION } from '../version.js';
import { formatJobRun, jobExitCode } from '../../common/jobs/format-run.js';
import { formatEvent, formatStatus } from './format.js';

const USAGE = `armory-agent ${AGENT_VERSION}: keeps programs running on this node

usage:
  armory-agent run --config FILE --state-dir DIR     run a standalone agent in the foreground (config from a file)
  armory-agent run --listen HOST:PORT --state-dir DIR
                                                     run an enrolled agent: mutual TLS with DIR/tls/{ca.pem,node.pem,node.key},
                                                     configuration only as signed and pushed by the manager
  armory-agent keeper (same options as run)          run the agent under the keeper (restarts it if it dies)
  armory-agent validate --config FILE                check a configuration and list every problem
  armory-agent status [--json] --state-dir DIR       services and their states
  armory-agent start|stop|restart NAME --state-dir DIR
  armory-agent reload --state-dir DIR                apply the configuration file again (only what changed)
  armory-agent logs NAME [--lines N] [--follow] --state-dir DIR
  armory-agent events [--json] [--limit N] [--service NAME] [--follow] --state-dir DIR
  armory-agent shutdown --state-dir DIR              stop every service, then the agent
  armory-agent release-vips --state-dir DIR          remove the virtual IPs a dead agent held and stop its failover groups' programs
                                                     (the keeper and systemd do this)
  armory-agent job run NAME [--json] --state-dir DIR run a local job's replicas as sandboxes here and vote (exit 1 unless they agree on success)
  armory-agent job results NAME [--json] [--limit N] --state-dir DIR
                                                     the kept runs of a job, newest first

--state-dir defaults to $ARMORY_STATE_DIR, else ./.armory
exit codes: 0 ok, 1 the agent refused or failed, 2 bad command line or configuration, 3 no agent running`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  'state-dir': { type: 'string', short: 'd' },
  json: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  lines: { type: 'string', short: 'n' },
  limit: { type: 'string' },
  service: { type: 'string' },
  listen: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

function usage(message: string): never {
  throw new ArmoryError('CLI_E_USAGE', `${message}\n\n${USAGE}`);
}

async function withClient<T>(stateDir: string, fn: (c: ControlClient) => Promise<T>): Promise<T> {
  const client = await ControlClient.connect(stateDirLayout(stateDir).socket);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

function agentEntry(): string[] {
  return [...process.execArgv, process.argv[1] as string];
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, USAGE);
  if (values.version) return (out(AGENT_VERSION), 0);
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') return (out(USAGE), 0);
  const stateDir = path.resolve(values['state-dir'] ?? process.env.ARMORY_STATE_DIR ?? '.armory');
  const needName = (): string => {
    if (rest.length !== 1) usage(`${command} takes one service name`);
    return rest[0] as string;
  };
  const noArgs = () => {
    if (rest.length > 0) usage(`${command} takes no arguments (got: ${rest.join(' ')})`);
  };
  const needConfig = (): string => {
    if (!values.config) usage(`${command} needs --config FILE`);
    return path.resolve(values.config);
  };

  switch (command) {
    case 'run': {
      noArgs();
      const log = pino({ base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: false }));
      const agent = new Agent({ ...agentSource(values.config, values.listen, stateDir, log), stateDir, log });
      const stopOn = (signal: string) => {
        log.info(`${signal}: the agent exits; its programs keep running (armory-agent shutdown stops them)`);
        void agent.detach();
      };
      process.once('SIGTERM', () => stopOn('SIGTERM'));
      process.once('SIGINT', () => stopOn('SIGINT'));
      await agent.start();
      const systemd = startSystemdNotify();
      const code = await agent.exited;
      systemd.stop();
      log.flush();
      return code;
    }
    case 'keeper': {
      noArgs();
      const how = values.listen !== undefined ? ['--listen', values.listen] : ['--config', needConfig()];
      if (values.listen !== undefined && values.config !== undefined) usage('give --config (standalone) or --listen (enrolled), not both');
      return runKeeper({
        command: process.execPath,
        args: [...agentEntry(), 'run', ...how, '--state-dir', stateDir],
        log: err,
        // A dead agent's virtual IPs go at once, and its failover groups' programs stop: a standby is about to take them over.
        onDeath: async () => {
          for (const line of await releaseDeadAgent(stateDir)) err(`keeper: ${line}`);
        },
      });
    }
    case 'release-vips': {
      // For systemd's ExecStopPost: what the keeper does when the agent dies.
      noArgs();
      for (const line of await releaseDeadAgent(stateDir)) out(line);
      return 0;
    }
    case 'validate': {
      noArgs();
      const file = needConfig();
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw new ArmoryError('CONFIG_E_UNREADABLE', `cannot read ${file}: ${(e as Error).message}`);
      }
      const r = parseConfigText(text);
      if (!r.ok) {
        err(formatProblems(r.problems, values.config));
        return 2;
      }
      out(`${values.config}: valid (${Object.keys(r.config.services).length} services)`);
      return 0;
    }
    case 'status': {
      noArgs();
      const s = await withClient(stateDir, (c) => c.call('status'));
      out(values.json ? JSON.stringify(s, null, 2) : formatStatus(s.services));
      return 0;
    }
    case 'start':
    case 'stop':
    case 'restart': {
      const name = needName();
      const r = await withClient(stateDir, (c) => c.call(command, { name }));
      out(r.message);
      return 0;
    }
    case 'reload': {
      noArgs();
      const r = await withClient(stateDir, (c) => c.call('reload'));
      out(r.message);
      return 0;
    }
    case 'shutdown': {
      noArgs();
      const r = await withClient(stateDir, (c) => c.call('shutdown'));
      out(r.message);
      return 0;
    }
    case 'logs': {
      const name = needName();
      const lines = intFlag(values.lines, 'lines', 100, 0, 100_000, USAGE);
      const client = await ControlClient.connect(stateDirLayout(stateDir).socket);
      const r = await client.call('logs', { name, lines, follow: values.follow ?? false }, (d) => out((d as { line: string }).line));
      for (const l of r.lines) out(l);
      if (values.follow) await client.closed();
      else client.close();
      return 0;
    }
    case 'events': {
      noArgs();
      const limit = intFlag(values.limit, 'limit', 50, 0, 100_000, USAGE);
      const print = (e: AgentEvent) => out(values.json ? JSON.stringify(e) : formatEvent(e));
      const client = await ControlClient.connect(stateDirLayout(stateDir).socket);
      const params = { limit, follow: values.follow ?? false, ...(values.service ? { service: values.service } : {}) };
      const r = await client.call('events', params, (d) => print(d as AgentEvent));
      if (values.json && !values.follow) out(JSON.stringify(r.events, null, 2));
      else for (const e of r.events) print(e);
      if (values.follow) await client.closed();
      else client.close();
      return 0;
    }
    case 'job': {
      const [sub, name, ...extra] = rest;
      if ((sub !== 'run' && sub !== 'results') || name === undefined || extra.length > 0) usage('job takes run NAME or results NAME');
      if (sub === 'run') {
        const run = await withClient(stateDir, (c) => c.call('job.run', { name }));
        out(values.json ? JSON.stringify(run, null, 2) : formatJobRun(run));
        return jobExitCode(run);
      }
      const limit = intFlag(values.limit, 'limit', 10, 1, 100, USAGE);
      const r = await withClient(stateDir, (c) => c.call('job.results', { name, limit }));
      if (values.json) out(JSON.stringify(r, null, 2));
      else out(r.runs.length === 0 ? `job ${name}: no runs kept yet` : r.runs.map(formatJobRun).join('\n\n'));
      return 0;
    }
    default:
      usage(`unknown command "${command}"`);
  }
}

/** A standalone agent reads a file; an enrolled one serves mutual TLS and runs what its manager signed. */
function agentSource(config: string | undefined, listen: string | undefined, stateDir: string, log: Logger): Pick<AgentOptions, 'source' | 'tls'> {
  if (config !== undefined && listen !== undefined) usage('give --config (standalone) or --listen (enrolled), not both');
  if (config !== undefined) return { source: new FileConfigSource(path.resolve(config)) };
  if (listen === undefined) usage('run needs --config FILE (standalone) or --listen HOST:PORT (enrolled)');
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) usage('--listen takes HOST:PORT, like 0.0.0.0:7443');
  const material = loadTlsMaterial(path.join(stateDir, 'tls'));
  const source = new SignedConfigSource(path.join(stateDir, 'config.signed.json'), material.caPem, material.node, (info) =>
    log.warn({ ...info }, 'signed configuration was corrupt; using the last good copy'),
  );
  return { source, tls: { material, listen: { host: (m[1] as string).replace(/^\[|\]$/g, ''), port } } };
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof ArmoryError) {
    if (e.code === 'CLI_E_USAGE' || e.code.startsWith('CONFIG_E')) return 2;
    if (e.code === 'AGENT_E_UNREACHABLE') return 3;
  }
  return 1;
}
