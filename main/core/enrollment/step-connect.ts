import type { EnrollContext } from './enroll-context.js';
import type { Step } from './step-runner.js';

const HOW = { pinned: 'matches the pinned key', trusted: 'matches the trusted fingerprint', confirmed: 'confirmed on first contact' } as const;

/** Connects and logs in; the host key is checked (pinned, trusted or confirmed) before anything is sent. Changes nothing. */
export const connectStep: Step<EnrollContext> = {
  name: 'connect',
  async run(ctx) {
    const t = ctx.o.target;
    const { how } = await ctx.conn.open();
    return `${t.user}@${t.host}:${t.port}, host key ${ctx.conn.hostKey} (${HOW[how]})`;
  },
};
