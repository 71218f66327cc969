import { clear, emptyState, h, button } from '../../components/dom.js';
import { errorText, type View, type ViewContext } from '../../view.js';

/** Failover groups as configured, with what each member reports of the group's services. */
export function groupsView(ctx: ViewContext): View {
  const body = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
  const el = h('section', { class: 'view', testid: 'view-groups', 'aria-labelledby': 'groups-title' }, h('h1', { id: 'groups-title' }, 'Failover groups'), body);
  const load = (): Promise<void> =>
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
                  h('p', {}, ...g.services.map((s) => button(`Failover drill of ${s}…`, `group-${g.name}-drill-${s}`, () => ctx.navigate(`services/${s}`)))),
                  h(
                    'p',
                    { testid: `group-${g.name}-active` },
                    g.activeNode ? `Active on ${g.activeNode}, epoch ${g.epoch}` : 'No member is active',
                    ` · a failover takes at most ${g.budget.totalMs} ms (detection ${g.budget.detectMs} + start ${g.budget.startMs} + ARP ${g.budget.arpMs})`,
                  ),
                  h(
                    'table',
                    { class: 'grid' },
                    h(
                      'thead',
                      {},
                      h('tr', {}, ...['Member', 'Priority', 'Answers', 'Role', 'Hears'].map((c) => h('th', { scope: 'col' }, c)), ...g.services.map((s) => h('th', { scope: 'col' }, s)), h('th', { scope: 'col' }, 'Action')),
                    ),
                    h(
                      'tbody',
                      {},
                      g.members.map((m) =>
                        h(
                          'tr',
                          { testid: `group-${g.name}-member-${m.node}` },
                          h('th', { scope: 'row' }, m.node),
                          h('td', {}, String(m.priority)),
                          h('td', {}, m.reachable ? 'yes' : 'no'),
                          h('td', { testid: `group-${g.name}-role-${m.node}` }, `${m.role ?? '–'}${m.copyLags ? ' · copy of the data lags' : ''}`),
                          h('td', {}, m.hears.of === 0 ? '–' : `${m.hears.fresh} of ${m.hears.of} peers`),
                          ...g.services.map((s) => h('td', {}, m.services[s] ?? '–')),
                          h(
                            'td',
                            {},
                            m.node === g.activeNode
                              ? 'active'
                              : button(`Move here`, `group-${g.name}-move-${m.node}`, () => void ctx.bridge.groups.move({ service: g.services[0] as string, node: m.node }).then(() => load(), (e: unknown) => ctx.reportError(e)), {
                                  'aria-label': `Move ${g.services.join(', ')} to ${m.node}`,
                                }),
                          ),
                        ),
                      ),
                    ),
                  ),
                ),
              ),
        ),
      (e: unknown) => clear(body, h('p', { class: 'error' }, errorText(e))),
    );
  void load();
  const sub = ctx.bridge.config.onApplied(() => void load());
  // Roles and heartbeats change without a new configuration: look again every few seconds.
  const every = setInterval(() => void load(), 3000);
  return {
    el,
    dispose: () => {
      sub.dispose();
      clearInterval(every);
    },
  };
}
