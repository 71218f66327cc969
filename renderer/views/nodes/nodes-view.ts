import { button, clear, emptyState, fmtTime, h } from '../../components/dom.js';
import { errorText, type View, type ViewContext } from '../../view.js';
import { authFields } from './add-node-wizard.js';

/** Enrolled nodes: whether they answer, their certificate; "Add node"; "Add this machine" when it is not a node. */
export function nodesView(ctx: ViewContext): View {
  const body = h('div', {}, h('p', { class: 'loading' }, 'Asking the agents…'));
  const note = h('p', { role: 'status', class: 'note', testid: 'nodes-note' });
  const addLocal = button('Add this machine', 'node-add-local', async () => {
    addLocal.disabled = true;
    note.textContent = 'Starting the local agent…';
    try {
      await ctx.bridge.nodes.addLocal();
      note.textContent = 'This machine is now the node "local".';
      await load();
    } catch (e) {
      note.textContent = errorText(e);
    } finally {
      addLocal.disabled = false;
    }
  });
  const load = () =>
    ctx.bridge.nodes.list().then((nodes) => {
      addLocal.hidden = nodes.some((n) => n.local);
      clear(
        body,
        nodes.length === 0
          ? emptyState('nodes-empty', 'No node yet. Add this machine to protect its programs right away, or enroll a Linux host over SSH with "Add node".')
          : h(
              'table',
              { class: 'grid', testid: 'nodes-table' },
              h('thead', {}, h('tr', {}, ...['Node', 'Address', 'Answers', 'Services', 'Certificate expires', ''].map((t) => h('th', { scope: 'col' }, t)))),
              h('tbody', {}, nodes.map((n) => h('tr', { testid: `node-row-${n.name}` }, h('th', { scope: 'row' }, h('a', { href: `#nodes/${n.name}`, testid: `node-open-${n.name}` }, n.name)), h('td', {}, n.address), h('td', { class: n.reachable ? 'tone-ok' : 'tone-bad' }, n.reachable ? 'yes' : `no: ${n.error ?? ''}`), h('td', {}, String(n.services)), h('td', {}, fmtTime(n.certificateExpires)), h('td', {}, button('Details', `node-details-${n.name}`, () => ctx.navigate(`nodes/${n.name}`)))))),
            ),
      );
    }, (e: unknown) => clear(body, h('p', { class: 'error' }, errorText(e))));
  void load();
  const off = ctx.store.on('status', () => void load());
  const el = h(
    'section',
    { class: 'view', testid: 'view-nodes', 'aria-labelledby': 'nodes-title' },
    h('h1', { id: 'nodes-title' }, 'Nodes'),
    h('div', { class: 'toolbar' }, button('Add node', 'node-add', () => ctx.navigate('nodes/add')), addLocal),
    note,
    body,
  );
  return { el, dispose: off };
}

/** One node: profile, agent, certificate; remove (with an SSH login for remote nodes). */
export function nodeDetailView(ctx: ViewContext, name: string): View {
  const body = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
  const note = h('p', { role: 'status', class: 'note', testid: 'node-note' });
  const el = h('section', { class: 'view', testid: 'view-node-detail', 'aria-labelledby': 'node-title' }, h('h1', { id: 'node-title' }, `Node ${name}`), note, body);
  let removing: string | null = null;
  const sub = ctx.bridge.nodes.onEnrollment((e) => {
    if (e.id !== removing) return;
    if (e.type === 'step') note.textContent = `${e.step}: ${e.status} ${e.detail}`;
    if (e.type === 'finished') {
      note.textContent = e.ok ? `${name} was removed.` : `Removal stopped at ${e.failedStep}: ${e.error?.message ?? ''}`;
      if (e.ok) ctx.navigate('nodes');
    }
  });
  void ctx.bridge.nodes.get({ name }).then((n) => {
    const auth = authFields('remove');
    const dl = (pairs: [string, string][]) => h('dl', { class: 'facts' }, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
    clear(
      body,
      dl([
        ['Address', n.address],
        ['Answers', n.reachable ? 'yes' : `no: ${n.error ?? ''}`],
        ['Services', String(n.services)],
        ['Agent version', n.agentVersion ?? 'unknown'],
        ['Certificate expires', fmtTime(n.certificateExpires)],
        ['Certificate', n.certificateFingerprint],
        ['SSH host key', n.hostKey ?? '(local machine)'],
        ['Enrolled', fmtTime(n.enrolledAt)],
      ]),
      h('h2', {}, 'Host profile'),
      n.profile ? dl(Object.entries(n.profile).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) : h('p', {}, 'This machine (no SSH profile).'),
      h('h2', {}, 'Remove'),
      h('p', {}, 'Removing a node stops its programs, removes its agent and forgets it.'),
      n.local ? null : auth.el,
      button(`Remove ${name}`, 'node-remove', async () => {
        if (!window.confirm(`Remove ${name}? Its programs are stopped and its agent removed.`)) return;
        try {
          removing = (await ctx.bridge.nodes.remove({ name, ...(n.local ? {} : { auth: auth.read() }) })).id;
          note.textContent = 'Removing…';
        } catch (e) {
          note.textContent = errorText(e);
        }
      }),
      button('Back to nodes', 'node-back', () => ctx.navigate('nodes')),
    );
  }, (e: unknown) => clear(body, h('p', { class: 'error' }, errorText(e))));
  return { el, dispose: () => sub.dispose() };
}
