import { ArmoryError } from '../../../common/errors/armory-error.js';
import type { EnrollContext, InstallPlan } from './enroll-context.js';
import { parseProfile, profileScript, type HostProfile } from './host-profile.js';
import { checkHostSupport, hostNodeUsable } from './host-support.js';
import type { Step } from './step-runner.js';

const PROFILE_TIMEOUT_MS = 20_000;

function planFor(ctx: EnrollContext, p: HostProfile): InstallPlan {
  const o = ctx.o;
  let service: InstallPlan['service'];
  if (o.service === 'auto') service = p.systemd && o.layout.root === '' ? 'systemd' : 'keeper';
  else service = o.service;
  if (service === 'systemd' && !p.systemd) {
    throw new ArmoryError('ENROLL_E_UNSUPPORTED', `a systemd unit was asked for, but PID 1 on ${o.target.host} is not systemd`, { node: o.node });
  }
  const useHostNode = o.runtime === 'auto' && hostNodeUsable(p, o.requirements);
  return Object.freeze({
    privilege: p.root ? 'root' : 'sudo',
    service,
    runtime: useHostNode ? 'host' : 'bundled',
    nodePath: useHostNode && p.node ? p.node.path : o.layout.runtimeNode,
    crontab: service === 'keeper' && p.crontab,
  });
}

export function describeProfile(p: HostProfile, plan: InstallPlan): string {
  const gb = (mb: number) => (mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${mb} MB`);
  const why = !p.node ? 'the host has no Node' : !p.node.rootOwned ? `the host's ${p.node.path} is not owned by root` : `the host has ${p.node.version}`;
  const node = plan.runtime === 'host' ? `Node ${p.node?.version} (${p.node?.path})` : `Node runtime shipped (${why})`;
  const service =
    plan.service === 'systemd' ? 'systemd unit' : `keeper (${p.systemd ? 'installRoot given' : 'no systemd as PID 1'}${plan.crontab ? ', @reboot crontab line' : ', no crontab: not restarted after a reboot'})`;
  return [
    `${p.distribution ?? p.os} ${p.kernel} ${p.arch ?? p.machine} ${p.libc}`,
    `${p.cpus} CPUs, ${gb(p.memoryMb)} memory, ${gb(p.freeDiskMb)} free on ${p.diskPath}`,
    plan.privilege === 'root' ? 'root' : 'sudo',
    node,
    service,
  ].join('; ');
}

/** Takes the host profile and refuses an unsupported host with every reason; decides how the agent goes on. Changes nothing. */
export const profileStep: Step<EnrollContext> = {
  name: 'profile',
  async run(ctx) {
    const shell = await ctx.conn.shell();
    const r = await shell.run(profileScript(ctx.o.layout.installDir), { privileged: false, timeoutMs: PROFILE_TIMEOUT_MS });
    const profile = parseProfile(r.stdout);
    ctx.profile = profile;
    const support = checkHostSupport(profile, ctx.o.requirements);
    if (!support.supported) {
      throw new ArmoryError('ENROLL_E_UNSUPPORTED', `${ctx.o.target.host} cannot run the agent: ${support.reasons.join('; ')}`, {
        node: ctx.o.node,
        reasons: support.reasons,
      });
    }
    const plan = planFor(ctx, profile);
    ctx.plan = plan;
    ctx.conn.usePrivilege(plan.privilege);
    return describeProfile(profile, plan);
  },
};
