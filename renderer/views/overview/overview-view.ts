import type { EventView } from '../../../common/bridge/events.js';
import type { ServiceStatus } from '../../../common/wire/service-status.js';
import { button, clear, emptyState, fmtPercent, fmtTime, h } from '../../components/dom.js';
import { paintBadge, stateLabel } from '../../components/state-label.js';
import type { View, ViewContext } from '../../view.js';

interface Row {
  tr: HTMLTableRowElement;
  badge: HTMLElement;
  restarts: HTMLElement;
  day: HTMLElement;
  week: HTMLElement;
  reason: HTMLElement;
  key: string;
}

const INCIDENT = (e: EventView) => (e.kind === 'transition' && (e.to === 'backing-off' || e.to === 'failed' || e.to === 'escalated' || (e.from === 'running' && e.to === 'starting'))) || e.kind === 'error' || e.kind === 'liveness';

/** Every node and service at a glance: state (colour and words), availability over 24 h and 7 d, the last incidents. */
export function overviewView(ctx: ViewContext): View {
  const nodesEl = h('div', { class: 'node-cards', testid: 'overview-nodes' });
  const tbody = h('tbody', { role: 'rowgroup' });
  const table = h(
    'table',
    { class: 'grid live', testid: 'overview-services', role: 'table' },
    h('caption', {}, 'Services'),
    h('thead', { role: 'rowgroup' }, h('tr', { role: 'row' }, ...['Service', 'Node', 'State', 'Restarts', 'Up 24 h', 'Up 7 d', 'Last reason'].map((t) => h('th', { scope: 'col', role: 'columnheader' }, t)))),
    tbody,
  );
  const servicesBox = h('div', {});
  const incidents = h('ol', { class: 'incidents', testid: 'overview-incidents' });
  const el = h(
    'section',
    { class: 'view', testid: 'view-overview', 'aria-labelledby': 'overview-title' },
    h('h1', { id: 'overview-title' }, 'Overview'),
    h('h2', {}, 'Nodes'),
    nodesEl,
    servicesBox,
    h('h2', {}, 'Last incidents'),
    incidents,
  );
  const rows = new Map<string, Row>();

  const rowFor = (node: string, s: ServiceStatus): Row => {
    const key = `${node}/${s.name}`;
    let r = rows.get(key);
    if (!r) {
      const badge = h('span', { class: 'badge', testid: `state-${node}-${s.name}` });
      const restarts = h('td', { role: 'cell' });
      const day = h('td', { role: 'cell' });
      const week = h('td', { role: 'cell' });
      const reason = h('td', { class: 'reason', role: 'cell' });
      const tr = h(
        'tr',
        { testid: `overview-row-${node}-${s.name}`, role: 'row' },
        h('th', { scope: 'row', role: 'rowheader' }, h('a', { href: `#services/${s.name}`, testid: `overview-open-${node}-${s.name}` }, s.name)),
        h('td', { role: 'cell' }, node),
        h('td', { role: 'cell' }, badge),
        restarts,
        day,
        week,
        reason,
      );
      r = { tr, badge, restarts, day, week, reason, key };
      rows.set(key, r);
    }
    return r;
  };

  const setText = (el: HTMLElement, text: string) => {
    if (el.textContent !== text) el.textContent = text;
  };

  const paintStatus = () => {
    const st = ctx.store.status;
    if (!st) return;
    // Node cards change rarely: rebuilt only when what they show changes, not on every snapshot.
    const nodesKey = JSON.stringify(st.nodes.map((n) => [n.node, n.reachable, n.error, n.services.length]));
    if (nodesEl.dataset.key !== nodesKey) {
      nodesEl.dataset.key = nodesKey;
      paintNodes(st);
    }
    paintServices(st);
  };

  const paintNodes = (st: NonNullable<typeof ctx.store.status>) => {
    clear(
      nodesEl,
      st.nodes.length === 0
        ? emptyState('overview-empty-nodes', 'No node yet. Add this machine to protect its programs, or enroll a Linux host over SSH.', button('Go to Nodes', 'overview-go-nodes', () => ctx.navigate('nodes')))
        : st.nodes.map((n) =>
            h(
              'div',
              { class: `node-card ${n.reachable ? 'tone-ok' : 'tone-bad'}`, testid: `overview-node-${n.node}` },
              h('strong', {}, n.node),
              h('span', {}, n.reachable ? `answers · ${n.services.length} service${n.services.length === 1 ? '' : 's'}` : `does not answer: ${n.error ?? ''}`),
            ),
          ),
    );
  };

  const paintServices = (st: NonNullable<typeof ctx.store.status>) => {
    const seen = new Set<string>();
    const ordered: HTMLTableRowElement[] = [];
    for (const n of st.nodes) {
      for (const s of n.services) {
        const r = rowFor(n.node, s);
        seen.add(r.key);
        ordered.push(r.tr);
        paintBadge(r.badge, stateLabel(s, n.reachable));
        setText(r.restarts, String(s.restarts));
        setText(r.reason, s.health ?? s.reason.split('\n')[0] ?? '');
      }
    }
    for (const [k, r] of rows) {
      if (seen.has(k)) continue;
      r.tr.remove();
      rows.delete(k);
    }
    if (ordered.length !== tbody.children.length || ordered.some((tr, i) => tbody.children[i] !== tr)) tbody.replaceChildren(...ordered);
    if (ordered.length === 0) {
      clear(servicesBox, h('h2', {}, 'Services'), emptyState('overview-empty-services', 'Nothing is protected yet. Create a service: name the program to keep running, and Armory restarts it when it fails.', button('New service', 'overview-new-service', () => ctx.navigate('services/new'))));
    } else if (servicesBox.firstChild !== table) clear(servicesBox, table);
    paintAvailability();
  };

  const paintAvailability = () => {
    for (const r of rows.values()) {
      const a = ctx.store.availability.get(r.key);
      setText(r.day, fmtPercent(a?.day ?? null));
      setText(r.week, fmtPercent(a?.week ?? null));
    }
  };

  const paintIncidents = () => {
    const last = ctx.store.events.filter(INCIDENT).slice(-10).reverse();
    clear(
      incidents,
      last.length === 0
        ? h('li', { class: 'empty', testid: 'overview-no-incidents' }, 'No incidents recorded. Failures and what Armory did about them appear here.')
        : last.map((e) => h('li', { testid: 'incident' }, h('time', { datetime: e.time }, fmtTime(e.time)), ' ', h('strong', {}, `${e.service ?? e.node}`), ` on ${e.node}: `, e.from && e.to ? `${e.from} → ${e.to}: ` : '', e.reason)),
    );
  };

  const offs = [ctx.store.on('status', paintStatus), ctx.store.on('availability', paintAvailability), ctx.store.on('events', paintIncidents)];
  void ctx.store.loadEvents().then(paintIncidents, ctx.reportError);
  paintStatus();
  paintIncidents();
  if (!ctx.store.status) clear(servicesBox, h('p', { class: 'loading' }, 'Asking the agents…'));
  return { el, dispose: () => offs.forEach((off) => off()) };
}
