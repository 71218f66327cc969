import { button, h } from '../../components/dom.js';
import type { View, ViewContext } from '../../view.js';
import { settingsSections } from './settings-sections.js';

/** Notifications in this browser, then every section that plugged in (the notification settings domain). */
function browserNotifications(): HTMLElement {
  const state = h('span', { testid: 'settings-browser-notifications-state' });
  const paint = () => (state.textContent = !('Notification' in window) ? 'This browser cannot show notifications.' : Notification.permission === 'granted' ? 'On: failures and recoveries also pop up outside this tab.' : Notification.permission === 'denied' ? 'Blocked in this browser\'s site settings.' : 'Off.');
  paint();
  return h(
    'section',
    { class: 'settings-section', testid: 'settings-browser' },
    h('h2', {}, 'Notifications in this browser'),
    h('p', {}, 'Failures and recoveries always appear in the page. The browser can also show them when this tab is in the background.'),
    state,
    ' ',
    button('Allow browser notifications', 'settings-browser-notifications', () => void Notification.requestPermission().then(paint)),
  );
}

export function settingsView(ctx: ViewContext): View {
  const el = h(
    'section',
    { class: 'view', testid: 'view-settings', 'aria-labelledby': 'settings-title' },
    h('h1', { id: 'settings-title' }, 'Settings'),
    browserNotifications(),
    settingsSections.length === 0
      ? h('section', { class: 'settings-section', testid: 'settings-more' }, h('h2', {}, 'E-mail and webhook'), h('p', { class: 'empty' }, 'E-mail (SMTP) and webhook notifications are set in the desktop app\'s notification settings.'))
      : settingsSections.map((s) => h('section', { class: 'settings-section', testid: `settings-${s.id}`, 'aria-label': s.title }, s.render(ctx))),
  );
  return { el, dispose: () => undefined };
}
