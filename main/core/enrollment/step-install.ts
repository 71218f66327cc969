import { ArmoryError } from '../../../common/errors/armory-error.js';
import { keeperCommand } from './agent-processes.js';
import { addCrontabLineScript, crontabLine, removeCrontabLineScript, restoreCrontabScript } from './crontab-entry.js';
import type { EnrollContext } from './enroll-context.js';
import type { InstallManifest } from './install-manifest.js';
import { UNIT_NAME } from './remote-layout.js';
import { shellQuote } from '../../../common/node/shell-quote.js';
import type { Step } from './step-runner.js';
import { readUnitTemplate, renderUnit, unitControl } from './systemd-unit.js';

function manifestOf(ctx: EnrollContext): InstallManifest {
  const plan = ctx.plan;
  if (!plan) throw new ArmoryError('ENROLL_E_COMMAND', 'install needs the host profile');
  const earlier = ctx.previous?.manifest?.createdDirs ?? [];
  return {
    format: 'armory-enrollment/1',
    node: ctx.o.node,
    enrolledAt: new Date().toISOString(),
    service: plan.service,
    nodePath: plan.nodePath,
    listen: ctx.o.listen,
    stateDir: ctx.o.layout.stateDir,
    crontab: plan.crontab,
    createdDirs: [...new Set([...earlier, ...ctx.upload.madeDirs, ...ctx.certificate.madeDirs])],
  };
}

/**
 * Makes the agent come back on its own: a system unit (enabled) where PID 1 is systemd, else an
 * @reboot line in root's crontab that starts the keeper (where there is a crontab). Also writes the
 * installation manifest that removal follows. What was there before is kept for the undo.
 */
export const installStep: Step<EnrollContext> = {
  name: 'install',
  async run(ctx) {
    const shell = await ctx.conn.shell();
    const layout = ctx.o.layout;
    const manifest = manifestOf(ctx);
    const q = shellQuote;
    const writeManifest = `cat > ${q(layout.manifestFile)} && chmod 0644 ${q(layout.manifestFile)} || exit 1`;
    const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;

    if (manifest.service !== 'keeper') {
      const scope = manifest.service;
      const { systemctl } = unitControl(scope);
      await shell.root('writing the installation manifest', writeManifest, { stdin: manifestText });
      ctx.install.manifestWritten = true;
      const unit = renderUnit(readUnitTemplate(ctx.o.bundleDir, scope), { nodePath: manifest.nodePath, agentScript: layout.agentScript, listen: manifest.listen, stateDir: layout.stateDir });
      const before = await shell.run(`cat ${q(layout.unitFile)}`, { privileged: true });
      ctx.install.unitBefore = before.code === 0 ? before.stdout : null;
      // A user unit's folder may not exist yet; it is the user's own configuration, so it stays.
      const mkdir = scope === 'systemd-user' ? `mkdir -p ${q(layout.unitFile.slice(0, layout.unitFile.lastIndexOf('/')))} && ` : '';
      await shell.root('installing the systemd unit', `${mkdir}cat > ${q(layout.unitFile)} && chmod 0644 ${q(layout.unitFile)} && ${systemctl} daemon-reload && ${systemctl} enable ${UNIT_NAME}`, {
        stdin: unit,
      });
      if (scope === 'systemd') return `systemd unit ${layout.unitFile}, enabled`;
      // Without lingering, the user manager (and the agent) stops when the user's last session ends.
      const linger = await shell.run('loginctl enable-linger "$(id -un)" 2>&1 && echo linger=yes', { privileged: true });
      return linger.stdout.includes('linger=yes')
        ? `systemd user unit ${layout.unitFile}, enabled; lingering on, so the agent runs without a login session`
        : `systemd user unit ${layout.unitFile}, enabled; lingering could not be turned on (${linger.stdout.trim().split('\n')[0] ?? ''}): the agent stops when the user's last session ends until an administrator runs loginctl enable-linger`;
    }
    if (!manifest.crontab) {
      await shell.root('writing the installation manifest', writeManifest, { stdin: manifestText });
      ctx.install.manifestWritten = true;
      return 'keeper (no systemd as PID 1); the host has no crontab, so the agent does not come back by itself after a reboot';
    }
    // One command: the manifest (stdin), root's crontab as it was (hex, for the undo), then the @reboot line.
    const keeper = keeperCommand(manifest.nodePath, layout.agentScript, manifest.listen, layout.stateDir);
    ctx.install.crontabAttempted = true;
    const r = await shell.run(
      [
        writeManifest,
        'echo manifest=written',
        `if crontab -l >/dev/null 2>&1; then echo "before=$(crontab -l | od -An -tx1 -v | tr -d ' \\n')"; else echo before=none; fi`,
        addCrontabLineScript(crontabLine(keeper, layout.keeperLog, layout.stateDir), layout.stateDir),
      ].join('\n'),
      { privileged: true, stdin: manifestText },
    );
    const out = r.stdout.split('\n');
    ctx.install.manifestWritten = out.includes('manifest=written');
    const before = out.find((l) => l.startsWith('before='))?.slice('before='.length);
    if (before !== undefined) ctx.install.crontabBefore = before === 'none' ? null : Buffer.from(before, 'hex').toString('utf8');
    if (r.code !== 0) throw new ArmoryError('ENROLL_E_COMMAND', `cannot add the @reboot line to root's crontab: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
    return "keeper (no systemd as PID 1); an @reboot line in root's crontab starts it at boot";
  },
  async undo(ctx) {
    const shell = await ctx.conn.shell();
    const layout = ctx.o.layout;
    const done: string[] = [];
    if (ctx.install.unitBefore !== undefined) {
      const before = ctx.install.unitBefore;
      const { systemctl } = unitControl(ctx.plan?.service === 'systemd-user' ? 'systemd-user' : 'systemd');
      if (before === null) {
        await shell.root('removing the systemd unit', `${systemctl} disable ${UNIT_NAME} 2>/dev/null; rm -f ${shellQuote(layout.unitFile)} && ${systemctl} daemon-reload`);
        done.push('removed the systemd unit');
      } else {
        await shell.root('restoring the earlier systemd unit', `cat > ${shellQuote(layout.unitFile)} && ${systemctl} daemon-reload`, { stdin: before });
        done.push('restored the earlier systemd unit');
      }
    }
    if (ctx.install.crontabBefore !== undefined) {
      const before = ctx.install.crontabBefore;
      await shell.root("restoring root's crontab", restoreCrontabScript(before !== null), before !== null ? { stdin: before } : {});
      done.push(before === null ? "removed root's crontab (it had none)" : "root's crontab is as it was");
    } else if (ctx.install.crontabAttempted && ctx.previous?.manifest?.crontab !== true) {
      // The answer saying what the crontab held was lost (the connection dropped): take out our line.
      await shell.root("removing the @reboot line from root's crontab", removeCrontabLineScript(layout.stateDir));
      done.push("removed the @reboot line from root's crontab");
    }
    // The manifest lives in the install folder: the upload's undo takes it away or puts the earlier one back.
    return done.length > 0 ? done.join('; ') : 'nothing to undo';
  },
};
