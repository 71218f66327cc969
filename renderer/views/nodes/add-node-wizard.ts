import type { EnrollmentEvent, SshAuthInput } from '../../../common/bridge/nodes.js';
import { button, clear, field, h } from '../../components/dom.js';
import { errorText, type View, type ViewContext } from '../../view.js';

/** How to log in: password, key file or ssh-agent (shared by the wizard and node removal). */
export function authFields(prefix: string): { el: HTMLElement; read(): SshAuthInput } {
  const kind = h('select', { testid: `${prefix}-auth-kind` }, h('option', { value: 'key-file' }, 'private key file'), h('option', { value: 'password' }, 'password'), h('option', { value: 'agent' }, 'ssh-agent'));
  const keyFile = h('input', { type: 'text', testid: `${prefix}-key-file`, placeholder: '/home/you/.ssh/id_ed25519', autocomplete: 'off' });
  const password = h('input', { type: 'password', testid: `${prefix}-password`, autocomplete: 'off' });
  const keyBox = field('Private key file', keyFile, 'A private key file on this machine; its public key must be in the host user\'s authorized_keys.');
  const pwBox = field('Password', password, 'Used for this login only; never stored.');
  const sync = () => {
    keyBox.hidden = kind.value !== 'key-file';
    pwBox.hidden = kind.value !== 'password';
  };
  kind.addEventListener('change', sync);
  sync();
  return {
    el: h('div', {}, field('Log in with', kind, 'How Armory logs in over SSH to install (or remove) the agent.'), keyBox, pwBox),
    read: () => (kind.value === 'password' ? { kind: 'password', password: password.value } : kind.value === 'agent' ? { kind: 'agent' } : { kind: 'key-file', keyFile: keyFile.value.trim() }),
  };
}

/**
 * Add node: address, user and login; the host key to confirm; then every enrollment step live with
 * its outcome, and on failure the reason and what was rolled back.
 */
export function addNodeWizard(ctx: ViewContext): View {
  const address = h('input', { type: 'text', testid: 'enroll-address', autocomplete: 'off', spellcheck: 'false', required: true });
  const sshPort = h('input', { type: 'text', testid: 'enroll-port', placeholder: '22', inputmode: 'numeric' });
  const user = h('input', { type: 'text', testid: 'enroll-user', value: 'root', autocomplete: 'off' });
  const name = h('input', { type: 'text', testid: 'enroll-name', autocomplete: 'off', spellcheck: 'false' });
  const agentPort = h('input', { type: 'text', testid: 'enroll-agent-port', placeholder: '7443', inputmode: 'numeric' });
  const installRoot = h('input', { type: 'text', testid: 'enroll-install-root', autocomplete: 'off', spellcheck: 'false' });
  const auth = authFields('enroll');
  const steps = h('ol', { class: 'steps', testid: 'enroll-steps', 'aria-live': 'polite' });
  const outcome = h('div', { testid: 'enroll-outcome', role: 'status' });
  const hostKey = h('div', { testid: 'enroll-host-key' });
  let id: string | null = null;
  const stepEls = new Map<string, HTMLElement>();
  const nameFor = (host: string) => host.toLowerCase().replace(/[^a-z0-9._-]/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63) || 'node';

  const onEvent = (e: EnrollmentEvent) => {
    if (e.id !== id) return;
    if (e.type === 'step') {
      const key = `${e.phase}:${e.step}`;
      let li = stepEls.get(key);
      if (!li) {
        li = h('li', { testid: `enroll-step-${e.phase === 'rollback' ? 'undo-' : ''}${e.step}` });
        stepEls.set(key, li);
        steps.append(li);
      }
      li.className = `step status-${e.status}`;
      li.dataset.status = e.status;
      clear(li, h('strong', {}, `${e.phase === 'rollback' ? 'undo ' : ''}${e.step}`), ` ${e.status}`, e.detail ? `: ${e.detail}` : '', e.status === 'running' ? '' : ` (${e.ms} ms)`);
    } else if (e.type === 'host-key') {
      const answer = (accept: boolean) => async () => {
        clear(hostKey, accept ? 'Host key pinned.' : 'Host key rejected.');
        try {
          await ctx.bridge.nodes.confirmHostKey({ id: e.id, fingerprint: e.fingerprint, accept });
        } catch (err) {
          clear(hostKey, errorText(err));
        }
      };
      clear(
        hostKey,
        h('p', {}, 'The host presented this SSH host key. Check it against the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) before you pin it:'),
        h('code', { testid: 'enroll-fingerprint' }, e.fingerprint),
        h('div', { class: 'actions' }, button('Pin and continue', 'enroll-accept-key', answer(true)), button('Reject', 'enroll-reject-key', answer(false))),
      );
      (hostKey.querySelector('button') as HTMLButtonElement).focus();
    } else {
      clear(hostKey);
      start.disabled = false;
      clear(
        outcome,
        e.ok
          ? h('p', { class: 'ok', testid: 'enroll-ok' }, `${e.node} is enrolled: its agent answers over mutual TLS.`, ...e.warnings.map((w) => h('p', { class: 'warning' }, w)), button('Go to Nodes', 'enroll-done', () => ctx.navigate('nodes')))
          : h(
              'div',
              { class: 'failed', testid: 'enroll-failed' },
              h('p', {}, `Enrollment failed at ${e.failedStep ?? '?'}: ${e.error?.message ?? ''}${e.error ? ` [${e.error.code}]` : ''}`),
              h('p', { testid: 'enroll-rolled-back' }, `Rolled back: ${e.rolledBack.join(', ') || 'nothing to undo'}.`),
              e.undoFailed.length > 0 ? h('p', { class: 'warning' }, `Could not undo: ${e.undoFailed.map((u) => `${u.step} (${u.message})`).join(', ')}`) : h('p', {}, 'Nothing of Armory is left on the host.'),
            ),
      );
    }
  };
  const sub = ctx.bridge.nodes.onEnrollment(onEvent);
  const start = button('Enroll', 'enroll-start', async () => {
    clear(steps);
    stepEls.clear();
    clear(outcome);
    clear(hostKey);
    start.disabled = true;
    try {
      const host = address.value.trim();
      const root = installRoot.value.trim();
      const r = await ctx.bridge.nodes.enroll({
        node: name.value.trim() || nameFor(host),
        host,
        port: sshPort.value.trim() ? Number(sshPort.value) : 22,
        user: user.value.trim(),
        auth: auth.read(),
        agentPort: agentPort.value.trim() ? Number(agentPort.value) : 7443,
        ...(root ? { installRoot: root } : {}),
      });
      id = r.id;
    } catch (e) {
      start.disabled = false;
      clear(outcome, h('p', { class: 'error', testid: 'enroll-error' }, errorText(e)));
    }
  });
  const el = h(
    'section',
    { class: 'view', testid: 'view-add-node', 'aria-labelledby': 'add-node-title' },
    h('h1', { id: 'add-node-title' }, 'Add a node'),
    h('p', { class: 'help' }, 'Armory logs in over SSH once, checks the host, installs its agent with a certificate of this cluster, and from then on talks to it over mutual TLS only.'),
    h(
      'form',
      { testid: 'enroll-form', onSubmit: (e: Event) => e.preventDefault() },
      field('Address', address, 'Host name or IP address of the Linux host.'),
      field('SSH port', sshPort, 'Default: 22.'),
      field('User', user, 'A user that may run sudo (or root).'),
      auth.el,
      field('Node name', name, 'How the node is called in Armory; default: made from the address.'),
      h(
        'details',
        { testid: 'enroll-advanced' },
        h('summary', { testid: 'enroll-advanced-toggle' }, 'Advanced'),
        field('Agent port', agentPort, 'TCP port the agent listens on for the manager (mutual TLS). Default: 7443.'),
        field('Install under a folder', installRoot, 'Empty (the default): the real /opt, /var/lib and /etc. Test hosts that share one filesystem each get a folder of their own.'),
      ),
      h('div', { class: 'actions' }, start, button('Cancel', 'enroll-cancel', () => ctx.navigate('nodes'))),
    ),
    hostKey,
    steps,
    outcome,
  );
  address.focus();
  return { el, dispose: () => sub.dispose() };
}
