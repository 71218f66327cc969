import { startKeeperScript, stopProcessesScript } from './agent-processes.js';
import type { EnrollContext } from './enroll-context.js';
import { inspectScript, parseInspection } from './previous-install.js';
import { UNIT_NAME } from './remote-layout.js';
import type { Step } from './step-runner.js';
import { unitControl, type UnitScope } from './systemd-unit.js';

/** Which unit manager may hold an earlier agent of this plan's layout. */
function earlierUnit(ctx: EnrollContext): UnitScope | null {
  if (ctx.plan?.service === 'systemd-user') return 'systemd-user';
  return ctx.plan?.service === 'systemd' || (ctx.profile?.systemd === true && ctx.o.layout.root === '') ? 'systemd' : null;
}

/** SIGTERM lets the agent go without stopping its programs; this is how long it has before SIGKILL. */
export const AGENT_STOP_GRACE_MS = 5000;

/**
 * Looks for an earlier enrollment on the host and stops its agent (and keeper or unit) so that the
 * files can be replaced: the agent lets go of its programs, which keep running, and the new agent
 * re-adopts them. Its undo starts the earlier agent again, after every later undo has put the
 * earlier files back.
 */
export const previousStep: Step<EnrollContext> = {
  name: 'previous',
  async run(ctx) {
    const shell = await ctx.conn.shell();
    const layout = ctx.o.layout;
    const unit = earlierUnit(ctx);
    const previous = parseInspection(await shell.root('looking for an earlier enrollment', inspectScript(layout, unit)));
    ctx.previous = previous;
    if (!previous.manifest && previous.processes.length === 0 && !previous.unitActive) return 'no earlier enrollment on this host';

    const was = previous.manifest ? `enrolled as ${previous.manifest.node} on ${previous.manifest.enrolledAt}` : 'an earlier agent';
    if (previous.unitActive) {
      ctx.stopped = { unit: true, relaunch: null };
      await shell.root('stopping the earlier agent', `${unitControl(unit ?? 'systemd').systemctl} stop ${UNIT_NAME}`);
      return `${was}: stopped its unit; its programs keep running and the new agent re-adopts them`;
    }
    if (previous.processes.length === 0) return `${was}: no agent was running`;
    const keeper = previous.processes.find((p) => p.role === 'keeper') ?? previous.processes[0];
    ctx.stopped = { unit: false, relaunch: keeper ? keeper.argv : null };
    await shell.root('stopping the earlier agent', stopProcessesScript(layout.agentScript, layout.stateDir, AGENT_STOP_GRACE_MS), { timeoutMs: AGENT_STOP_GRACE_MS + 10_000 });
    return `${was}: stopped its ${previous.processes.map((p) => `${p.role} (pid ${p.pid})`).join(' and ')}; its programs keep running and the new agent re-adopts them`;
  },
  async undo(ctx) {
    const stopped = ctx.stopped;
    if (stopped === null) return 'nothing was stopped';
    const shell = await ctx.conn.shell();
    if (stopped.unit) {
      await shell.root('starting the earlier agent again', `${unitControl(earlierUnit(ctx) ?? 'systemd').systemctl} start ${UNIT_NAME}`);
      return 'started the earlier unit again';
    }
    if (stopped.relaunch === null) return 'the earlier agent was stopped; its command line is unknown, so it was not started again';
    const pid = (await shell.root('starting the earlier agent again', startKeeperScript(stopped.relaunch, ctx.o.layout.keeperLog))).trim();
    return `started the earlier ${stopped.relaunch.includes('keeper') ? 'keeper' : 'agent'} again (pid ${pid})`;
  },
};
