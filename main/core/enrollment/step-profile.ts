import { ArmoryError } from '../../../common/errors/armory-error.js';
import type { EnrollContext, InstallPlan } from './enroll-context.js';
import { parseProfile, profileScript, type HostProfile } from './host-profile.js';
import { checkHostSupport, hostNodeUsable } from './host-support.js';
import { userLayout } from './remote-layout.js';
import type { Step } from './step-runner.js';

const PROFILE_TIMEOUT_MS = 20_000;

/**
 * How the agent goes onto this host. As root (directly or through sudo): a system unit where PID 1
 * is systemd, else the keeper. A login user with neither root nor sudo but a systemd user manager
 * gets a user unit in its home, and the agent runs as that user.
 */
export function planFor(o: EnrollContext['o'], p: HostProfile): InstallPlan {
  const asRoot = p.root || p.sudo;
  let service: InstallPlan['service'];
  if (o.service === 'auto') service = !asRoot ? 'systemd-user' : p.systemd && o.layout.root === '' ? 'systemd' : 'keeper';
  else service = o.service;
  const refuse = (why: string) => new ArmoryError('ENROLL_E_UNSUPPORTED', `${why} on ${o.target.host}`, { node: o.node });
  if (service === 'systemd' && !p.systemd) throw refuse('a systemd unit was asked for, but PID 1 is not systemd');
  if (service === 'systemd-user' && !p.userSystemd) throw refuse(`a user unit was asked for, but ${o.target.user} has no systemd user manager`);
  if (service !== 'systemd-user' && !asRoot) throw refuse(`${service === 'systemd' ? 'a system unit' : 'the keeper'} needs root, and ${o.target.user} is not root and cannot use sudo without a password`);
  const layout = service === 'systemd-user' ? userLayout(o.layout.root || (p.home ?? '')) : o.layout;
  const useHostNode = o.runtime === 'auto' && hostNodeUsable(p, o.requirements);
  return Object.freeze({
    privilege: service === 'systemd-user' ? 'user' : p.root ? 'root' : 'sudo',
    service,
    runtime: useHostNode ? 'host' : 'bundled',
    nodePath: useHostNode && p.node ? p.node.path : layout.runtimeNode,
    crontab: service === 'keeper' && p.crontab,
    layout,
  });
}

/** The Debian/Ubuntu packages of the virtual-IP commands. */
const vipPackages = (missing: readonly string[]) => missing.map((c) => (c === 'ip' ? 'iproute2' : 'iputils-arping')).join(' and ');

export function describeProfile(p: HostProfile, plan: InstallPlan): string {
  const gb = (mb: number) => (mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${mb} MB`);
  const why = !p.node ? 'the host has no Node' : !p.node.rootOwned ? `the host's ${p.node.path} is not owned by root` : `the host has ${p.node.version}`;
  const node = plan.runtime === 'host' ? `Node ${p.node?.version} (${p.node?.path})` : `Node runtime shipped (${why})`;
  const service =
    plan.service === 'systemd'
      ? 'systemd unit'
      : plan.service === 'systemd-user'
        ? `systemd user unit in ${plan.layout.root} (the agent runs as ${p.root ? 'root' : 'the login user'})`
        : `keeper (${p.systemd ? 'installRoot given' : 'no systemd as PID 1'}${plan.crontab ? ', @reboot crontab line' : ', no crontab: not restarted after a reboot'})`;
  return [
    `${p.distribution ?? p.os} ${p.kernel} ${p.arch ?? p.machine} ${p.libc}`,
    `${p.cpus} CPUs, ${gb(p.memoryMb)} memory, ${gb(p.freeDiskMb)} free on ${p.diskPath}`,
    plan.privilege,
    node,
    service,
    ...(p.missingVipCommands.length > 0 ? [`no ${p.missingVipCommands.join(' or ')}: this node cannot carry a virtual IP until ${vipPackages(p.missingVipCommands)} is installed`] : []),
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
    const plan = planFor(ctx.o, profile);
    ctx.plan = plan;
    if (plan.layout !== ctx.o.layout) ctx.o = Object.freeze({ ...ctx.o, layout: plan.layout });
    ctx.conn.usePrivilege(plan.privilege);
    return describeProfile(profile, plan);
  },
};
