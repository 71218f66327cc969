import 'uplot/dist/uPlot.min.css';
import './app.css';
import type { NotificationView } from '../common/bridge/events.js';
import { connectBridge } from './bridge-client/connect.js';
import { clear, h } from './components/dom.js';
import { Toasts } from './components/toasts.js';
import { Store } from './store.js';
import { errorText, type View, type ViewContext } from './view.js';
import { configView } from './views/config/config-view.js';
import { eventsView } from './views/events/events-view.js';
import { groupsView } from './views/groups/groups-view.js';
import { jobsView } from './views/jobs/jobs-view.js';
import { addNodeWizard } from './views/nodes/add-node-wizard.js';
import { nodeDetailView, nodesView } from './views/nodes/nodes-view.js';
import { overviewView } from './views/overview/overview-view.js';
import { serviceDetailView } from './views/services/service-detail-view.js';
import { serviceFormView } from './views/services/service-form-view.js';
import { servicesView } from './views/services/services-view.js';
import { settingsView } from './views/settings/settings-view.js';
import './views/settings/notification-settings.js';

const SCREENS = [
  ['overview', 'Overview'],
  ['nodes', 'Nodes'],
  ['services', 'Services'],
  ['groups', 'Failover groups'],
  ['jobs', 'Jobs'],
  ['events', 'Events'],
  ['config', 'Configuration'],
  ['settings', 'Settings'],
] as const;

function route(ctx: ViewContext, path: string): View {
  const [screen, arg, sub] = path.split('/');
  switch (screen) {
    case 'nodes':
      return arg === 'add' ? addNodeWizard(ctx) : arg ? nodeDetailView(ctx, arg) : nodesView(ctx);
    case 'services':
      return arg === 'new' ? serviceFormView(ctx, null) : arg && sub === 'edit' ? serviceFormView(ctx, arg) : arg ? serviceDetailView(ctx, arg) : servicesView(ctx);
    case 'groups':
      return groupsView(ctx);
    case 'jobs':
      return jobsView(ctx, arg, sub);
    case 'events':
      return eventsView(ctx);
    case 'config':
      return configView(ctx);
    case 'settings':
      return settingsView(ctx);
    default:
      return overviewView(ctx);
  }
}

function start(): void {
  const root = document.getElementById('app') as HTMLElement;
  const banner = h('div', { class: 'banner', role: 'alert', testid: 'banner', hidden: true });
  const main = h('main', { id: 'main', tabindex: -1 });
  const nav = h(
    'nav',
    { 'aria-label': 'Screens' },
    h('ul', {}, SCREENS.map(([id, label]) => h('li', {}, h('a', { href: `#${id}`, testid: `nav-${id}`, 'data-screen': id }, label)))),
  );
  const open = (n: NotificationView) => ctx.navigate(n.service ? `services/${n.service}` : 'overview');
  const toasts = new Toasts(open);
  const bridge = connectBridge(() => {
    banner.hidden = false;
    banner.textContent = 'The connection to the Armory manager is closed. Your services keep running; reload the page (with its token) when the console runs again.';
  });
  const store = new Store(bridge, (n) => toasts.show(n));
  const ctx: ViewContext = {
    bridge,
    store,
    navigate: (r) => {
      if (location.hash === `#${r}`) show();
      else location.hash = r;
    },
    reportError: (e) => {
      banner.hidden = false;
      banner.textContent = errorText(e);
    },
  };
  let current: View | null = null;
  const show = () => {
    const path = decodeURIComponent(location.hash.replace(/^#\/?/, '')) || 'overview';
    current?.dispose();
    current = route(ctx, path);
    clear(main, current.el);
    const screen = path.split('/')[0];
    for (const a of nav.querySelectorAll('a')) a.toggleAttribute('aria-current', a.dataset.screen === screen);
    document.title = `Armory · ${SCREENS.find(([id]) => id === screen)?.[1] ?? 'Overview'}`;
  };
  window.addEventListener('hashchange', show);
  clear(root, h('a', { href: '#main', class: 'skip', testid: 'skip-to-content' }, 'Skip to content'), h('header', {}, h('strong', { class: 'brand' }, 'Armory'), nav), banner, toasts.el, main);
  show();
}

start();
