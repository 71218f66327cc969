import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { EnrollmentEvent, enrollParamsSchema, SshAuthInput } from '../../common/bridge/nodes.js';
import { LOCAL_NODE } from '../../common/config/placement.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { SshAuth } from '../core/enrollment/ssh-session.js';
import type { ProgressEvent } from '../core/enrollment/step-runner.js';
import { enrollRemoteNode, removeRemoteNode } from '../core/remote-nodes.js';
import type { HostContext } from './host-context.js';

export function sshAuthOf(a: SshAuthInput): SshAuth {
  if (a.kind === 'password') return { password: a.password };
  if (a.kind === 'key-file') return a.passphrase ? { keyFile: a.keyFile, passphrase: a.passphrase } : { keyFile: a.keyFile };
  return { agent: true };
}

interface Running {
  node: string;
  /** Set while the user is asked to confirm a host key. */
  confirm: { fingerprint: string; answer(accept: boolean): void } | null;
}

/**
 * Enrollments and removals started from the GUI: each runs in the background under an id, reports
 * its steps live as `nodes.enrollment` events, asks for the host key through one, and ends with a
 * `finished` event that says what failed and what was rolled back.
 */
export class Enrollments {
  private readonly running = new Map<string, Running>();

  constructor(private readonly ctx: HostContext) {}

  private emit(e: EnrollmentEvent): void {
    this.ctx.emit('nodes', 'enrollment', e);
  }

  private begin(node: string): string {
    for (const r of this.running.values()) if (r.node === node) throw new ArmoryError('BRIDGE_E_BUSY', `${node} is already being enrolled or removed`);
    const id = randomUUID();
    this.running.set(id, { node, confirm: null });
    return id;
  }

  private progress(id: string) {
    return (p: ProgressEvent) => this.emit({ type: 'step', id, step: p.step, status: p.status, detail: p.detail, ms: p.ms, phase: p.phase });
  }

  private finish(id: string, node: string, r: { ok: boolean; failedStep?: string; error?: ArmoryError; rolledBack?: readonly string[]; undoFailed?: readonly { step: string; error: ArmoryError }[]; warnings?: readonly string[] }): void {
    this.running.delete(id);
    this.emit({
      type: 'finished',
      id,
      ok: r.ok,
      node,
      failedStep: r.failedStep ?? null,
      error: r.error ? { code: r.error.code ?? 'RPC_E_INTERNAL', message: r.error.message } : null,
      rolledBack: [...(r.rolledBack ?? [])],
      undoFailed: (r.undoFailed ?? []).map((u) => ({ step: u.step, message: u.error.message })),
      warnings: [...(r.warnings ?? [])],
    });
  }

  private crashed(id: string, node: string, step: string) {
    return (e: unknown) => this.finish(id, node, { ok: false, failedStep: step, error: e instanceof ArmoryError ? e : new ArmoryError('RPC_E_INTERNAL', (e as Error).message) });
  }

  enroll(p: z.output<typeof enrollParamsSchema>): { id: string } {
    const id = this.begin(p.node);
    const confirmHostKey = (fingerprint: string) =>
      new Promise<boolean>((resolve) => {
        const r = this.running.get(id);
        if (!r) return resolve(false);
        r.confirm = { fingerprint, answer: resolve };
        this.emit({ type: 'host-key', id, fingerprint });
      });
    enrollRemoteNode(
      this.ctx.manager,
      { node: p.node, host: p.host, port: p.port, user: p.user, auth: sshAuthOf(p.auth), confirmHostKey, ...(p.installRoot ? { installRoot: p.installRoot } : {}) },
      { agentPort: p.agentPort, bundleDir: this.ctx.bundleDir },
      this.progress(id),
    ).then((r) => this.finish(id, p.node, r.ok ? { ok: true, warnings: r.warnings } : r), this.crashed(id, p.node, 'connect'));
    return { id };
  }

  confirmHostKey(id: string, fingerprint: string, accept: boolean): { message: string } {
    const r = this.running.get(id);
    if (!r?.confirm) throw new ArmoryError('BRIDGE_E_UNKNOWN_ENROLLMENT', `no enrollment ${id} is waiting for a host key answer`);
    if (r.confirm.fingerprint !== fingerprint) throw new ArmoryError('ENROLL_E_HOST_KEY_REJECTED', `the host presented ${r.confirm.fingerprint}, not ${fingerprint}`);
    const { answer } = r.confirm;
    r.confirm = null;
    answer(accept);
    return { message: accept ? 'host key pinned' : 'host key rejected' };
  }

  remove(node: string, auth: SshAuthInput | undefined): { id: string } {
    this.ctx.manager.node(node);
    if (node !== LOCAL_NODE && !auth) throw new ArmoryError('ENROLL_E_OPTIONS', `removing ${node} needs an SSH login (password, key file or ssh-agent)`);
    const id = this.begin(node);
    const done =
      node === LOCAL_NODE
        ? this.ctx.manager.removeLocalNode().then(() => ({ ok: true }))
        : removeRemoteNode(this.ctx.manager, { node, auth: sshAuthOf(auth as SshAuthInput) }, this.progress(id)).then((r) => (r.ok ? { ok: true } : { ok: false, failedStep: r.failedStep, error: r.error }));
    done.then((r) => this.finish(id, node, r), this.crashed(id, node, 'remove'));
    return { id };
  }
}
