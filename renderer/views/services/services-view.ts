import type { ServiceStatus } from '../../../common/wire/service-status.js';
import { button, clear, emptyState, h } from '../../components/dom.js';
import { paintBadge, stateLabel } from '../../components/state-label.js';
import { errorText, type View, type ViewContext } from '../../view.js';

/** Where each service runs and in what state: one row per service and node. */
export function serviceInstances(ctx: ViewContext, name?: string): { node: string; reachable: boolean; status: ServiceStatus }[] {
  const out: { node: string; reachable: boolean; status: ServiceStatus }[] = [];
  for (const n of ctx.store.status?.nodes ?? []) for (const s of n.services) if (!name || s.name === name) out.push({ node: n.node, reachable: n.reachable, status: s });
  return out;
}

export function actionButtons(ctx: ViewContext, node: string, name: string, onDone: (message: string) => void): HTMLElement {
  const act = (what: 'start' | 'stop' | 'restart') =>
    button(what.charAt(0).toUpperCase() + what.slice(1), `service-${what}-${node}-${name}`, async (e) => {
      const b = e.currentTarget as HTMLButtonElement;
      b.disabled = true;
      try {
        onDone((await ctx.bridge.services[what]({ node, name })).message);
      } catch (err) {
        onDone(errorText(err));
      } finally {
        b.disabled = false;
      }
    }, { 'aria-label': `${what} ${name} on ${node}` });
  return h('span', { class: 'row-actions' }, act('start'), act('stop'), act('restart'));
}

/** The Services screen: every configured service with its state and actions, and "New service". */
export function servicesView(ctx: ViewContext): View {
  const list = h('div', {});
  const note = h('p', { role: 'status', class: 'note', testid: 'services-note' });
  const el = h(
    'section',
    { class: 'view', testid: 'view-services', 'aria-labelledby': 'services-title' },
    h('h1', { id: 'services-title' }, 'Services'),
    h('div', { class: 'toolbar' }, button('New service', 'service-new', () => ctx.navigate('services/new'))),
    note,
    list,
  );
  let configured: string[] = [];
  const badges = new Map<string, HTMLElement>();
  const paint = () => {
    const instances = serviceInstances(ctx);
    const names = [...new Set([...configured, ...instances.map((i) => i.status.name)])].sort();
    if (names.length === 0) {
      badges.clear();
      return clear(list, emptyState('services-empty', 'No service yet. Click "New service", give it a name and the command to run; Armory starts it on the local node and keeps it running.', button('Create the first service', 'services-empty-new', () => ctx.navigate('services/new'))));
    }
    const key = names.join('\0') + instances.map((i) => i.node + i.status.name).join('\0');
    if (list.dataset.key !== key) {
      badges.clear();
      list.dataset.key = key;
      clear(
        list,
        h(
          'table',
          { class: 'grid', testid: 'services-table' },
          h('thead', {}, h('tr', {}, ...['Service', 'Node', 'State', 'PID', 'Restarts', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
          h(
            'tbody',
            {},
            names.flatMap((name) => {
              const here = instances.filter((i) => i.status.name === name);
              const rows = here.length > 0 ? here : [null];
              return rows.map((i) => {
                const badge = h('span', { class: 'badge', testid: `service-state-${i?.node ?? 'none'}-${name}` });
                badges.set(`${i?.node}/${name}`, badge);
                return h(
                  'tr',
                  { testid: `service-row-${name}` },
                  h('th', { scope: 'row' }, h('a', { href: `#services/${name}`, testid: `service-open-${name}` }, name)),
                  h('td', {}, i?.node ?? 'not running anywhere yet'),
                  h('td', {}, badge),
                  h('td', { 'data-col': 'pid' }),
                  h('td', { 'data-col': 'restarts' }),
                  h('td', {}, i ? actionButtons(ctx, i.node, name, (m) => (note.textContent = m)) : null),
                );
              });
            }),
          ),
        ),
      );
    }
    for (const i of instances) {
      const badge = badges.get(`${i.node}/${i.status.name}`);
      if (!badge) continue;
      paintBadge(badge, stateLabel(i.status, i.reachable));
      const tr = badge.closest('tr') as HTMLElement;
      (tr.querySelector('[data-col=pid]') as HTMLElement).textContent = i.status.pid === null ? '–' : String(i.status.pid);
      (tr.querySelector('[data-col=restarts]') as HTMLElement).textContent = String(i.status.restarts);
    }
  };
  const refreshConfig = () =>
    ctx.bridge.config.get().then((c) => {
      configured = Object.keys((c.raw.services ?? {}) as object);
      paint();
    }, ctx.reportError);
  void refreshConfig();
  const offs = [ctx.store.on('status', paint), ctx.bridge.config.onApplied(() => void refreshConfig())];
  paint();
  return { el, dispose: () => offs.forEach((o) => (typeof o === 'function' ? o() : o.dispose())) };
}
