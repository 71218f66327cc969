import { ArmoryError } from '../../../common/errors/armory-error.js';
import { keeperCommand, listProcessesScript, parseProcesses, startKeeperScript, stopProcessesScript } from './agent-processes.js';
import { waitForAgent } from './agent-readiness.js';
import type { EnrollContext } from './enroll-context.js';
import { UNIT_NAME } from './remote-layout.js';
import { shellQuote } from '../../../common/node/shell-quote.js';
import { AGENT_STOP_GRACE_MS } from './step-previous.js';
import type { Step } from './step-runner.js';
import { unitControl } from './systemd-unit.js';

const LOG_TAIL_LINES = 8;

/**
 * Starts the agent (systemctl restart, or the keeper detached from the SSH session) and waits,
 * bounded by timeouts.agentStartMs, until it answers `hello` over mutual TLS as the node named in
 * its certificate. A keeper that dies meanwhile fails the step at once with the end of its log.
 */
export const startStep: Step<EnrollContext> = {
  name: 'start',
  async run(ctx) {
    const plan = ctx.plan;
    if (!plan) throw new ArmoryError('ENROLL_E_COMMAND', 'start needs the host profile');
    const o = ctx.o;
    const layout = o.layout;
    const shell = await ctx.conn.shell();
    const started = Date.now();
    let how: string;
    const unit = plan.service === 'keeper' ? null : unitControl(plan.service);
    if (unit) {
      ctx.start.launched = true;
      how = `${unit.systemctl} restart ${UNIT_NAME}`;
      await shell.root('starting the agent', how);
    } else {
      ctx.start.launched = true;
      const pid = (await shell.root('starting the keeper', startKeeperScript(keeperCommand(plan.nodePath, layout.agentScript, o.listen, layout.stateDir), layout.keeperLog))).trim();
      how = `keeper pid ${pid}`;
    }
    const logTail = async (): Promise<string> => {
      const s = await ctx.conn.shell();
      const cmd = unit ? `${unit.journal} -n ${LOG_TAIL_LINES} --no-pager 2>/dev/null` : `tail -n ${LOG_TAIL_LINES} ${shellQuote(layout.keeperLog)} 2>/dev/null`;
      return (await s.run(cmd, { privileged: true, timeoutMs: 10_000 })).stdout.trim();
    };
    const stillStarting = async (): Promise<string | null> => {
      const s = await ctx.conn.shell();
      if (unit) {
        const r = await s.run(`${unit.systemctl} is-failed ${UNIT_NAME}`, { privileged: true, timeoutMs: 10_000 });
        return r.stdout.trim() === 'failed' ? `the unit failed: ${await logTail()}` : null;
      }
      const procs = parseProcesses((await s.run(listProcessesScript(layout.agentScript, layout.stateDir), { privileged: true, timeoutMs: 10_000 })).stdout);
      return procs.some((p) => p.role === 'keeper') ? null : `the keeper is no longer running; its log ends with: ${await logTail()}`;
    };
    const hello = await waitForAgent({ host: o.target.host, port: o.agentPort, node: o.node, caPem: o.ca.certPem, manager: o.manager, timeoutMs: o.timeouts.agentStartMs, stillStarting });
    ctx.hello = hello;
    return `${how}; agent ${hello.agentVersion} (pid ${hello.pid}) answered over mutual TLS at ${o.target.host}:${o.agentPort} after ${Date.now() - started} ms`;
  },
  async undo(ctx) {
    if (!ctx.start.launched) return 'nothing was started';
    const shell = await ctx.conn.shell();
    const layout = ctx.o.layout;
    if (ctx.plan && ctx.plan.service !== 'keeper') {
      await shell.root('stopping the agent', `${unitControl(ctx.plan.service).systemctl} stop ${UNIT_NAME}`);
      return 'stopped the unit';
    }
    const out = await shell.root('stopping the keeper and the agent', stopProcessesScript(layout.agentScript, layout.stateDir, AGENT_STOP_GRACE_MS), { timeoutMs: AGENT_STOP_GRACE_MS + 10_000 });
    return out.includes('killed:') ? 'stopped the keeper and the agent (SIGKILL after the grace period)' : 'stopped the keeper and the agent';
  },
};
