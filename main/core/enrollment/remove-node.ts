import { ArmoryError } from '../../../common/errors/armory-error.js';
import { findProcessesFunction, stopProcessesScript } from './agent-processes.js';
import { removeCrontabLineScript } from './crontab-entry.js';
import { normaliseAccess, type NormalisedAccess, type RemoveOptions } from './enrollment-options.js';
import { HostConnection } from './host-connection.js';
import { inspectScript, parseInspection, type PreviousInstall } from './previous-install.js';
import { removeEmptyDirsScript } from './remote-dirs.js';
import { UNIT_NAME, userLayout } from './remote-layout.js';
import { shellQuote } from '../../../common/node/shell-quote.js';
import { AGENT_STOP_GRACE_MS } from './step-previous.js';
import { runSteps, type ProgressEvent, type Step, type StepRecord } from './step-runner.js';
import { unitControl, type UnitScope } from './systemd-unit.js';

interface RemoveContext {
  /** A user-unit installation's layout is moved into the login user's home by the connect step. */
  o: NormalisedAccess & { readonly shutdownTimeoutMs: number; readonly userUnit: boolean };
  readonly conn: HostConnection;
  found: PreviousInstall | null;
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

/** The user manager for a user-unit installation; otherwise the system manager is asked only where there is one. */
const unitScope = (ctx: RemoveContext): UnitScope | null => (ctx.o.userUnit ? 'systemd-user' : null);

const connect: Step<RemoveContext> = {
  name: 'connect',
  async run(ctx) {
    const { shell } = await ctx.conn.open();
    const t = ctx.o.target;
    const uid = (await shell.user('asking who the login user is', 'id -u')).trim();
    if (ctx.o.userUnit) {
      ctx.conn.usePrivilege('user');
      const home = (await shell.user('asking for the home folder', 'printf %s "$HOME"')).trim();
      ctx.o = Object.freeze({ ...ctx.o, layout: userLayout(ctx.o.layout.root || home) });
      return `${t.user}@${t.host}:${t.port}, host key ${ctx.conn.hostKey}, a user-unit installation in ${ctx.o.layout.root}`;
    }
    if (uid === '0') ctx.conn.usePrivilege('root');
    else if ((await shell.run('sudo -n true </dev/null', { privileged: false, timeoutMs: 15_000 })).code === 0) ctx.conn.usePrivilege('sudo');
    else throw new ArmoryError('ENROLL_E_UNSUPPORTED', `${t.user} on ${t.host} is not root and cannot use sudo without a password: removal needs root`);
    return `${t.user}@${t.host}:${t.port}, host key ${ctx.conn.hostKey}${uid === '0' ? '' : ', through sudo'}`;
  },
};

const inspect: Step<RemoveContext> = {
  name: 'inspect',
  async run(ctx) {
    const shell = await ctx.conn.shell();
    const layout = ctx.o.layout;
    const withSystemd = layout.root === '' && (await shell.run('[ -d /run/systemd/system ]', { privileged: false })).code === 0;
    ctx.found = parseInspection(await shell.root('looking for the installation', inspectScript(layout, unitScope(ctx) ?? (withSystemd ? 'systemd' : null))));
    const m = ctx.found.manifest;
    const running = ctx.found.processes.map((p) => `${p.role} ${p.pid}`).join(', ');
    if (m && m.node !== ctx.o.node) {
      throw new ArmoryError('ENROLL_E_OPTIONS', `${ctx.o.target.host} was enrolled as ${m.node}, not ${ctx.o.node}; nothing was removed`, { node: ctx.o.node, enrolledAs: m.node });
    }
    return `${m ? `enrolled as ${m.node} on ${m.enrolledAt} (${m.service})` : 'no installation manifest'}; ${running ? `running: ${running}` : 'no agent running'}${ctx.found.unitActive ? '; unit active' : ''}`;
  },
};

/** Stops the programs and the agent: `armory-agent shutdown` first (it stops every program), then whatever is left. */
const stop: Step<RemoveContext> = {
  name: 'stop',
  async run(ctx) {
    const shell = await ctx.conn.shell();
    const layout = ctx.o.layout;
    const found = ctx.found;
    const agent = found?.processes.find((p) => p.role === 'agent');
    const nodePath = found?.manifest?.nodePath ?? agent?.argv[0];
    const said: string[] = [];
    if (agent && nodePath) {
      const rounds = Math.ceil(ctx.o.shutdownTimeoutMs / 100);
      const out = await shell.root(
        'shutting the agent down',
        [
          findProcessesFunction(layout.agentScript, layout.stateDir),
          `${shellQuote(nodePath)} ${shellQuote(layout.agentScript)} shutdown --state-dir ${shellQuote(layout.stateDir)} >/dev/null 2>&1 || echo shutdown-refused`,
          `i=0; while [ $i -lt ${rounds} ] && armory_pids | grep -q " agent$"; do sleep 0.1; i=$((i+1)); done`,
          'armory_pids | grep -q " agent$" && echo still-running; exit 0',
        ].join('\n'),
        { timeoutMs: ctx.o.shutdownTimeoutMs + 15_000 },
      );
      said.push(out.includes('shutdown-refused') ? 'the agent did not take the shutdown' : out.includes('still-running') ? 'the agent did not finish stopping its programs in time' : 'the agent stopped its programs and exited');
    }
    if (found?.unitActive || found?.manifest?.service === 'systemd' || found?.manifest?.service === 'systemd-user') {
      await shell.root('disabling the unit', `${unitControl(unitScope(ctx) ?? 'systemd').systemctl} disable --now ${UNIT_NAME} 2>/dev/null; exit 0`);
      said.push('unit stopped and disabled');
    }
    const left = await shell.root('stopping what is left', stopProcessesScript(layout.agentScript, layout.stateDir, AGENT_STOP_GRACE_MS), { timeoutMs: AGENT_STOP_GRACE_MS + 10_000 });
    if (left.includes('killed:')) said.push('killed what was left');
    return said.length > 0 ? said.join('; ') : 'nothing was running';
  },
};

const uninstall: Step<RemoveContext> = {
  name: 'uninstall',
  async run(ctx) {
    const shell = await ctx.conn.shell();
    const layout = ctx.o.layout;
    const q = shellQuote;
    const out = await shell.root(
      'removing the service',
      [
        `if [ -e ${q(layout.unitFile)} ]; then rm -f ${q(layout.unitFile)}; command -v systemctl >/dev/null 2>&1 && ${unitControl(unitScope(ctx) ?? 'systemd').systemctl} daemon-reload 2>/dev/null; echo unit-removed; fi`,
        'exit 0',
      ].join('\n'),
    );
    const said = out.includes('unit-removed') ? [`removed ${layout.unitFile}`] : [];
    if (!ctx.o.userUnit && (await shell.run('command -v crontab', { privileged: true })).code === 0) {
      await shell.root("removing the @reboot line from root's crontab", removeCrontabLineScript(layout.stateDir));
      said.push(`root's crontab holds no Armory line for ${layout.stateDir}`);
    }
    return said.length > 0 ? said.join('; ') : 'no unit and no crontab';
  },
};

const removeFiles: Step<RemoveContext> = {
  name: 'remove-files',
  async run(ctx) {
    const shell = await ctx.conn.shell();
    const layout = ctx.o.layout;
    const q = shellQuote;
    await shell.root(
      'removing the files',
      [
        `rm -rf ${q(layout.installDir)} ${q(layout.stateDir)}`,
        // Leftovers of an enrollment that was cut off before it could clean up.
        `for d in ${q(layout.installDir)}.new-* ${q(layout.installDir)}.old-*; do [ -e "$d" ] && rm -rf "$d"; done`,
        removeEmptyDirsScript(ctx.found?.manifest?.createdDirs ?? []),
        'exit 0',
      ].join('\n'),
    );
    return `removed ${layout.installDir} and ${layout.stateDir}`;
  },
};

export const REMOVAL_STEPS: readonly Step<RemoveContext>[] = Object.freeze([connect, inspect, stop, uninstall, removeFiles]);

export type RemovalResult =
  | { readonly ok: true; readonly node: string; readonly hostKey: string; readonly steps: readonly StepRecord[] }
  | { readonly ok: false; readonly node: string; readonly hostKey: string | null; readonly failedStep: string; readonly error: ArmoryError; readonly steps: readonly StepRecord[] };

/**
 * Undoes a complete enrollment: stops the programs and the agent, removes the unit or the keeper's
 * crontab line, the bundle, the state folder (certificate included) and the folders enrollment
 * created. Removing a host with nothing of Armory on it succeeds and changes nothing. It stops at
 * the first failure (nothing is put back: the node was being removed), and the result says where.
 */
export async function removeNode(options: RemoveOptions, onProgress: (e: ProgressEvent) => void): Promise<RemovalResult> {
  const access = normaliseAccess(options);
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  if (!Number.isInteger(shutdownTimeoutMs) || shutdownTimeoutMs < 100 || shutdownTimeoutMs > 600_000) {
    throw new ArmoryError('ENROLL_E_OPTIONS', 'shutdownTimeoutMs must be a whole number of milliseconds from 100 to 600000');
  }
  const conn = new HostConnection(access.target);
  const ctx: RemoveContext = { o: Object.freeze({ ...access, shutdownTimeoutMs, userUnit: options.userUnit === true }), conn, found: null };
  try {
    const r = await runSteps(REMOVAL_STEPS, ctx, onProgress);
    if (r.ok && conn.hostKey) return Object.freeze({ ok: true, node: access.node, hostKey: conn.hostKey, steps: r.steps });
    if (r.ok) throw new Error('removal finished without a host key');
    return Object.freeze({ ok: false, node: access.node, hostKey: conn.hostKey, failedStep: r.failedStep, error: r.error, steps: r.steps });
  } finally {
    conn.close();
  }
}
