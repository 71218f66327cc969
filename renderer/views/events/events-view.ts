import type { EVENT_VIEW_KINDS, EventView } from '../../../common/bridge/events.js';
import { clear, fmtTime, h } from '../../components/dom.js';
import { VirtualList } from '../../components/virtual-list.js';
import type { View, ViewContext } from '../../view.js';

const KINDS: readonly string[] = ['transition', 'config', 'adoption', 'agent', 'store', 'liveness', 'error', 'manager'] satisfies readonly (typeof EVENT_VIEW_KINDS)[number][];

/** The event journal: filter by node, service and kind; live; a virtual list that stays fast with 100k entries. */
export function eventsView(ctx: ViewContext): View {
  const select = (testid: string, label: string) => {
    const s = h('select', { testid, id: testid }, h('option', { value: '' }, 'all'));
    return { s, el: h('label', { class: 'filter' }, `${label} `, s) };
  };
  const node = select('events-filter-node', 'Node');
  const service = select('events-filter-service', 'Service');
  const kind = select('events-filter-kind', 'Kind');
  for (const k of KINDS) kind.s.append(h('option', { value: k }, k));
  const count = h('p', { role: 'status', class: 'note', testid: 'events-count' });
  const list = new VirtualList<EventView>(
    28,
    (e) =>
      h(
        'div',
        { class: `event-row kind-${e.kind}`, testid: 'event-row' },
        h('time', { datetime: e.time }, fmtTime(e.time)),
        h('span', { class: 'ev-node' }, e.node),
        h('span', { class: 'ev-service' }, e.service ?? '–'),
        h('span', { class: 'ev-kind' }, e.kind),
        h('span', { class: 'ev-reason' }, e.from && e.to ? `${e.from} → ${e.to}: ${e.reason}` : e.reason),
      ),
    { testid: 'events-list', label: 'Events, oldest first' },
  );
  const empty = h('div', {});
  const el = h(
    'section',
    { class: 'view view-fill', testid: 'view-events', 'aria-labelledby': 'events-title' },
    h('h1', { id: 'events-title' }, 'Events'),
    h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Filters' }, node.el, service.el, kind.el),
    count,
    empty,
    list.el,
  );
  const known = { nodes: new Set<string>(), services: new Set<string>() };
  let filtered: EventView[] = [];
  let scanned = 0;
  const matches = (e: EventView) => (!node.s.value || e.node === node.s.value) && (!service.s.value || e.service === service.s.value) && (!kind.s.value || e.kind === kind.s.value);
  const addOptions = (from: number) => {
    const all = ctx.store.events;
    for (let i = from; i < all.length; i += 1) {
      const e = all[i] as EventView;
      if (!known.nodes.has(e.node)) {
        known.nodes.add(e.node);
        node.s.append(h('option', { value: e.node }, e.node));
      }
      if (e.service && !known.services.has(e.service)) {
        known.services.add(e.service);
        service.s.append(h('option', { value: e.service }, e.service));
      }
    }
  };
  const refilter = () => {
    filtered = ctx.store.events.filter(matches);
    scanned = ctx.store.events.length;
    paint();
  };
  const paint = () => {
    list.set(filtered);
    count.textContent = `${filtered.length} of ${ctx.store.events.length} events`;
    clear(empty, ctx.store.events.length === 0 ? h('p', { class: 'empty', testid: 'events-empty' }, 'No events yet. Every start, stop, crash and recovery of every service appears here as it happens.') : null);
  };
  const onEvents = () => {
    const all = ctx.store.events;
    if (all.length < scanned || (filtered.length > 0 && all[0] && (filtered[0]?.seq ?? 0) < all[0].seq)) return (addOptions(0), refilter());
    addOptions(scanned);
    for (let i = scanned; i < all.length; i += 1) if (matches(all[i] as EventView)) filtered.push(all[i] as EventView);
    scanned = all.length;
    paint();
  };
  for (const s of [node.s, service.s, kind.s]) s.addEventListener('change', refilter);
  const off = ctx.store.on('events', onEvents);
  void ctx.store.loadEvents().then(() => (addOptions(0), refilter()), ctx.reportError);
  addOptions(0);
  refilter();
  return { el, dispose: off };
}
