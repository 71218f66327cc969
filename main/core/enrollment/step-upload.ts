import { ArmoryError } from '../../../common/errors/armory-error.js';
import { collectAgentBundle } from './agent-bundle.js';
import { commitUpload, undoUpload, uploadBundle } from './bundle-upload.js';
import type { EnrollContext } from './enroll-context.js';
import type { Step } from './step-runner.js';

const REPORT_EVERY_MS = 250;
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

/**
 * Uploads the agent bundle (and the Node runtime when the host needs one) over SFTP, checks every
 * file's SHA-256 on the host and swaps it into the install folder. Bounded by timeouts.uploadMs:
 * past it the connection is cut, which fails the upload at once; the undo reconnects.
 */
export const uploadStep: Step<EnrollContext> = {
  name: 'upload',
  async run(ctx, report) {
    const plan = ctx.plan;
    const arch = ctx.profile?.arch;
    if (!plan || !arch) throw new ArmoryError('ENROLL_E_COMMAND', 'upload needs the host profile');
    const bundle = await collectAgentBundle(ctx.o.bundleDir, arch, { withRuntime: plan.runtime === 'bundled' });
    const shell = await ctx.conn.shell();
    let lastReport = 0;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctx.conn.interrupt();
    }, ctx.o.timeouts.uploadMs);
    const started = Date.now();
    try {
      const { replaced } = await uploadBundle(shell, bundle, ctx.o.layout.installDir, ctx.upload, (sent) => {
        const now = Date.now();
        if (now - lastReport < REPORT_EVERY_MS) return;
        lastReport = now;
        report(`${mb(sent)} of ${mb(bundle.totalBytes)} sent`);
      });
      const seconds = Math.max(0.001, (Date.now() - started) / 1000);
      return `${bundle.files.length} files, ${mb(bundle.totalBytes)} (${mb(bundle.totalBytes / seconds)}/s)${bundle.withRuntime ? ', with the Node runtime' : ''}, sha256 checked, into ${ctx.o.layout.installDir}${replaced ? ' (replacing the earlier bundle)' : ''}`;
    } catch (e) {
      if (timedOut) throw new ArmoryError('ENROLL_E_TIMEOUT', `the upload did not finish within ${ctx.o.timeouts.uploadMs}ms`, { node: ctx.o.node }, { cause: e });
      throw e;
    } finally {
      clearTimeout(timer);
    }
  },
  async undo(ctx) {
    await undoUpload(await ctx.conn.shell(), ctx.o.layout.installDir, ctx.upload);
    return ctx.upload.previous ? 'the earlier bundle is back in place' : `removed ${ctx.o.layout.installDir}`;
  },
  async commit(ctx) {
    await commitUpload(await ctx.conn.shell(), ctx.upload);
  },
};
