import { button, clear, fmtTime, h } from '../../components/dom.js';
import { paintBadge, stateLabel } from '../../components/state-label.js';
import { errorText, type View, type ViewContext } from '../../view.js';
import { recoveryPlot } from './recovery-plot.js';
import { drillPanel } from './drill-panel.js';
import { actionButtons, serviceInstances } from './services-view.js';

/** One service: its state on each node, actions, the tail of its log and its recovery times. */
export function serviceDetailView(ctx: ViewContext, name: string): View {
  const states = h('div', { testid: 'service-instances' });
  const note = h('p', { role: 'status', class: 'note', testid: 'service-note' });
  const logs = h('pre', { class: 'log', testid: 'service-log', tabindex: 0, 'aria-label': `Log of ${name}` }, 'Loading the log…');
  const plotBox = h('div', {});
  let plot: { destroy(): void } | null = null;
  const drill = drillPanel(ctx, name);
  const el = h(
    'section',
    { class: 'view', testid: 'view-service-detail', 'aria-labelledby': 'service-detail-title' },
    h('h1', { id: 'service-detail-title' }, `Service ${name}`),
    h(
      'div',
      { class: 'toolbar' },
      button('Edit', 'service-edit', () => ctx.navigate(`services/${name}/edit`)),
      button('Remove', 'service-remove', async () => {
        if (!window.confirm(`Remove the service ${name}? Its program is stopped on every node.`)) return;
        try {
          await ctx.bridge.config.removeService({ name });
          ctx.navigate('services');
        } catch (e) {
          note.textContent = errorText(e);
        }
      }),
      button('Back to services', 'service-back', () => ctx.navigate('services')),
    ),
    note,
    states,
    h('h2', {}, 'Restarts and recovery time'),
    plotBox,
    drill.el,
    h('h2', {}, 'Log (last 200 lines)'),
    logs,
  );
  const badges = new Map<string, { badge: HTMLElement; info: HTMLElement }>();
  const paint = () => {
    const inst = serviceInstances(ctx, name);
    const key = inst.map((i) => i.node).join(',');
    if (states.dataset.key !== key) {
      states.dataset.key = key;
      badges.clear();
      clear(
        states,
        inst.length === 0
          ? h('p', { class: 'empty', testid: 'service-not-running' }, 'No node runs this service yet: it starts once the configuration reaches its node (see Nodes if a node does not answer).')
          : inst.map((i) => {
              const badge = h('span', { class: 'badge', testid: `detail-state-${i.node}` });
              const info = h('span', { class: 'info' });
              badges.set(i.node, { badge, info });
              return h('div', { class: 'instance', testid: `instance-${i.node}` }, h('strong', {}, i.node), ' ', badge, ' ', info, ' ', actionButtons(ctx, i.node, name, (m) => (note.textContent = m)));
            }),
      );
    }
    for (const i of inst) {
      const b = badges.get(i.node);
      if (!b) continue;
      paintBadge(b.badge, stateLabel(i.status, i.reachable));
      b.info.textContent = `pid ${i.status.pid ?? '–'} · ${i.status.restarts} restarts · since ${fmtTime(i.status.since)} · ${i.status.health ?? i.status.reason.split('\n')[0]}`;
    }
  };
  const refresh = async () => {
    const inst = serviceInstances(ctx, name)[0];
    if (!inst) return;
    try {
      const [l, rec] = await Promise.all([ctx.bridge.services.logs({ node: inst.node, name, lines: 200 }), ctx.bridge.services.recoveries({ node: inst.node, name, limit: 500 })]);
      const atEnd = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4;
      logs.textContent = l.lines.length > 0 ? l.lines.join('\n') : '(the program has written nothing yet)';
      if (atEnd) logs.scrollTop = logs.scrollHeight;
      const key = `${rec.length}/${rec.filter((r) => r.recoveryMs !== null).length}`;
      if (plotBox.dataset.key !== key) {
        plotBox.dataset.key = key;
        plot?.destroy();
        const p = recoveryPlot(rec);
        plot = p;
        clear(plotBox, p.el);
      }
    } catch (e) {
      logs.textContent = `The log cannot be read: ${errorText(e)}`;
    }
  };
  const off = ctx.store.on('status', paint);
  paint();
  void refresh();
  const timer = window.setInterval(() => void refresh(), 2000);
  return {
    el,
    dispose: () => {
      off();
      clearInterval(timer);
      plot?.destroy();
      drill.dispose();
    },
  };
}
