import { clear, emptyState, h, button } from '../../components/dom.js';
import { errorText, type View, type ViewContext } from '../../view.js';

/** Failover groups as configured, with what each member reports of the group's services. */
export function groupsView(ctx: ViewContext): View {
  const body = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
  const el = h('section', { class: 'view', testid: 'view-groups', 'aria-labelledby': 'groups-title' }, h('h1', { id: 'groups-title' }, 'Failover groups'), body);
  const load = () =>
    ctx.bridge.groups.list().then(
      (groups) =>
        clear(
          body,
          groups.length === 0
            ? emptyState('groups-empty', 'No failover group. A group moves services (and their virtual IP) to a standby node when their node fails: add one under "groups:" in the configuration, with its member nodes and services.', button('Open the configuration', 'groups-go-config', () => ctx.navigate('config')))
            : groups.map((g) =>
                h(
                  'article',
                  { class: 'group', testid: `group-${g.name}` },
                  h('h2', {}, g.name),
                  h('p', {}, `Services: ${g.services.join(', ')} · heartbeat ${g.heartbeatMs} ms · fails after ${g.failAfterMs} ms · failback ${g.failback}${g.witness ? ` · witness ${g.witness}` : ''}`),
                  h(
                    'table',
                    { class: 'grid' },
                    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Member'), h('th', { scope: 'col' }, 'Priority'), h('th', { scope: 'col' }, 'Answers'), ...g.services.map((s) => h('th', { scope: 'col' }, s)))),
                    h('tbody', {}, g.members.map((m) => h('tr', {}, h('th', { scope: 'row' }, m.node), h('td', {}, String(m.priority)), h('td', {}, m.reachable ? 'yes' : 'no'), ...g.services.map((s) => h('td', {}, m.services[s] ?? '–'))))),
                  ),
                ),
              ),
        ),
      (e: unknown) => clear(body, h('p', { class: 'error' }, errorText(e))),
    );
  void load();
  const sub = ctx.bridge.config.onApplied(() => void load());
  return { el, dispose: () => sub.dispose() };
}
