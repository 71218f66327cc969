// The Settings screen's sections of the `settings` bridge domain: notification channels (desktop,
// e-mail over SMTP, webhook; a Test button each) and the desktop app's own settings. Imported once
// by renderer/main.ts, which registers them on the Settings screen.
import './notification-settings.css';
import type { AlertKind, Channel, NotificationSettingsInput, NotificationSettingsView } from '../../../common/bridge/settings.js';
import { button, clear, field, h } from '../../components/dom.js';
import { errorText, type ViewContext } from '../../view.js';
import { settingsSections } from './settings-sections.js';

const KINDS: readonly [AlertKind, string][] = [
  ['failure', 'a service failed (Armory restarts it)'],
  ['recovery', 'a service runs again'],
  ['escalation', 'a service was handed to another node'],
  ['give-up', 'Armory gave up on a service'],
];

const input = (testid: string, value: string | number, props: Record<string, unknown> = {}) => h('input', { testid, value: String(value), ...props });
const checkbox = (testid: string, checked: boolean) => h('input', { type: 'checkbox', testid, checked });

/** Shows each problem of a refused save at its field (`email.host`); what has no field goes to `rest`. */
function showProblems(form: HTMLElement, e: unknown, rest: HTMLElement): void {
  for (const f of form.querySelectorAll<HTMLElement>('.field')) {
    f.classList.remove('invalid');
    (f.querySelector('.error') as HTMLElement).textContent = '';
  }
  const problems = ((e as { context?: { problems?: { path: string; message: string }[] } }).context?.problems ?? []).filter((p) => p.path !== '');
  const unplaced: string[] = [];
  for (const p of problems) {
    const f = [...form.querySelectorAll<HTMLElement>('.field')].find((el) => el.dataset.path !== undefined && p.path.startsWith(el.dataset.path));
    if (!f) {
      unplaced.push(`${p.path}: ${p.message}`);
      continue;
    }
    f.classList.add('invalid');
    (f.querySelector('.error') as HTMLElement).textContent = p.message;
  }
  rest.textContent = problems.length === 0 ? errorText(e) : unplaced.join('; ');
}

function notificationsSection(ctx: ViewContext): HTMLElement {
  const body = h('div', { testid: 'notification-settings-body' }, h('p', {}, 'Loading…'));
  const render = (v: NotificationSettingsView) => {
    const desktop = checkbox('notify-desktop', v.desktop.enabled);
    const email = v.email;
    const emailOn = checkbox('notify-email-enabled', email?.enabled ?? false);
    const host = input('notify-email-host', email?.host ?? '', { placeholder: 'smtp.example.com' });
    const port = input('notify-email-port', email?.port ?? 587, { type: 'number', min: 1, max: 65535 });
    const security = h(
      'select',
      { testid: 'notify-email-security' },
      (['starttls', 'tls', 'none'] as const).map((s) => h('option', { value: s, selected: (email?.security ?? 'starttls') === s }, s === 'starttls' ? 'STARTTLS (port 587)' : s === 'tls' ? 'TLS (port 465)' : 'none (local relay)')),
    );
    const user = input('notify-email-user', email?.user ?? '', { autocomplete: 'off' });
    const password = input('notify-email-password', '', { type: 'password', autocomplete: 'new-password', placeholder: email?.passwordSet ? 'stored: leave empty to keep it' : '' });
    const from = input('notify-email-from', email?.from ?? '', { placeholder: 'armory@example.com' });
    const to = input('notify-email-to', email?.to.join(', ') ?? '', { placeholder: 'ops@example.com, oncall@example.com' });
    const hookOn = checkbox('notify-webhook-enabled', v.webhook?.enabled ?? false);
    const url = input('notify-webhook-url', v.webhook?.url ?? '', { type: 'url', placeholder: 'https://hooks.example.com/…' });
    const kinds = KINDS.map(([k, label]) => [k, checkbox(`notify-kind-${k}`, v.rules.kinds.includes(k)), label] as const);
    const group = input('notify-group-seconds', v.rules.groupWindowMs / 1000, { type: 'number', min: 0, max: 60, step: 0.5 });
    const perMinute = input('notify-max-per-window', v.rules.maxPerWindow, { type: 'number', min: 1, max: 1000 });
    const status = h('p', { role: 'status', testid: 'notify-status' });
    const formErrors = h('p', { class: 'error', role: 'alert', testid: 'notify-errors' });

    const emailWanted = () => emailOn.checked || host.value.trim() !== '' || to.value.trim() !== '';
    const collect = (): NotificationSettingsInput => ({
      desktop: { enabled: desktop.checked },
      email: emailWanted()
        ? {
            enabled: emailOn.checked,
            host: host.value.trim(),
            port: Number(port.value),
            security: security.value as 'starttls' | 'tls' | 'none',
            user: user.value.trim() === '' ? null : user.value.trim(),
            ...(password.value !== '' ? { password: password.value } : user.value.trim() === '' ? { password: null } : {}),
            from: from.value.trim(),
            to: to.value.split(',').map((s) => s.trim()).filter((s) => s !== ''),
          }
        : null,
      webhook: hookOn.checked || url.value.trim() !== '' ? { enabled: hookOn.checked, url: url.value.trim() } : null,
      rules: { kinds: kinds.filter(([, c]) => c.checked).map(([k]) => k), groupWindowMs: Math.round(Number(group.value) * 1000), maxPerWindow: Number(perMinute.value), rateWindowMs: v.rules.rateWindowMs },
    });
    const save = async (): Promise<boolean> => {
      formErrors.textContent = '';
      try {
        render(await ctx.bridge.settings.setNotifications(collect()));
        (body.querySelector('[data-testid="notify-status"]') as HTMLElement).textContent = 'Saved.';
        return true;
      } catch (e) {
        showProblems(form, e, formErrors);
        return false;
      }
    };
    const test = (channel: Channel) => async () => {
      status.textContent = `Testing ${channel}…`;
      if (!(await save())) return (status.textContent = 'Fix the settings first.');
      const r = await ctx.bridge.settings.test({ channel }).catch((e: unknown) => ({ ok: false, message: errorText(e) }));
      (body.querySelector('[data-testid="notify-status"]') as HTMLElement).textContent = `${r.ok ? 'Test sent' : 'Test failed'} (${channel}): ${r.message}`;
    };

    const form = h(
      'form',
      { class: 'notification-form', testid: 'notification-form', novalidate: true, onSubmit: (e: Event) => (e.preventDefault(), void save()) },
      h('fieldset', {}, h('legend', {}, 'On this computer'), field('Desktop notifications', desktop, 'Pop up failures and recoveries (the console page always lists them).', { path: 'desktop', testid: 'field-desktop' }), button('Test desktop', 'notify-test-desktop', () => void test('desktop')())),
      h(
        'fieldset',
        {},
        h('legend', {}, 'E-mail (SMTP)'),
        field('Send e-mail', emailOn, 'Send every notification by e-mail.', { path: 'email.enabled' }),
        field('SMTP server', host, 'Host name or address of your mail server.', { path: 'email.host' }),
        field('Port', port, '587 with STARTTLS, 465 with TLS, 25 for a local relay.', { path: 'email.port' }),
        field('Security', security, 'STARTTLS refuses a server that cannot encrypt.', { path: 'email.security' }),
        field('Login', user, 'Leave empty when the server needs none.', { path: 'email.user' }),
        field('Password', password, email?.passwordSet ? 'A password is stored; type a new one to change it.' : 'Stored in the manager\'s owner-only folder, never shown again.', { path: 'email.password' }),
        field('From', from, 'The sender address.', { path: 'email.from' }),
        field('To', to, 'Recipients, separated by commas.', { path: 'email.to' }),
        button('Test e-mail', 'notify-test-email', () => void test('email')()),
      ),
      h(
        'fieldset',
        {},
        h('legend', {}, 'Webhook'),
        field('Post to a webhook', hookOn, 'POST every notification as JSON (with a "text" field for chat tools).', { path: 'webhook.enabled' }),
        field('URL', url, 'An http:// or https:// address.', { path: 'webhook.url' }),
        button('Test webhook', 'notify-test-webhook', () => void test('webhook')()),
      ),
      h(
        'fieldset',
        { 'data-path': 'rules' },
        h('legend', {}, 'What to tell'),
        kinds.map(([k, c, label]) => h('label', { class: 'check', testid: `notify-kind-label-${k}` }, c, ` ${label}`)),
        field('Group alerts within (seconds)', group, 'Alerts this close together come as one notification.', { path: 'rules.groupWindowMs' }),
        field('At most per minute', perMinute, 'More are merged into the next notification, never dropped.', { path: 'rules.maxPerWindow' }),
      ),
      h('div', { class: 'actions' }, h('button', { type: 'submit', testid: 'notify-save' }, 'Save notification settings')),
      formErrors,
      status,
    );
    clear(body, form);
  };
  ctx.bridge.settings.notifications({}).then(render, (e: unknown) => clear(body, h('p', { class: 'error', role: 'alert' }, errorText(e))));
  return h('div', {}, h('h2', {}, 'Notifications'), body);
}

function appSection(ctx: ViewContext): HTMLElement {
  const body = h('div', { testid: 'app-settings-body' });
  ctx.bridge.settings.app({}).then(
    (a) => {
      if (!a.available) return clear(body, h('p', { class: 'empty', testid: 'app-settings-unavailable' }, 'The tray, closing to the tray and starting at login belong to the desktop app; this console has none of them.'));
      const tray = checkbox('app-close-to-tray', a.closeToTray);
      const login = checkbox('app-start-at-login', a.startAtLogin);
      const status = h('p', { role: 'status', testid: 'app-settings-status' });
      const apply = () =>
        ctx.bridge.settings.setApp({ closeToTray: tray.checked, startAtLogin: login.checked }).then(
          (r) => ((tray.checked = r.closeToTray), (login.checked = r.startAtLogin), (status.textContent = 'Saved.')),
          (e: unknown) => (status.textContent = errorText(e)),
        );
      tray.addEventListener('change', () => void apply());
      login.addEventListener('change', () => void apply());
      clear(
        body,
        field('Close to the tray', tray, 'Closing the window keeps Armory in the tray. Services keep running either way.', { testid: 'field-close-to-tray' }),
        field('Start at login', login, 'Start Armory in the tray when you log in.', { testid: 'field-start-at-login' }),
        status,
      );
    },
    (e: unknown) => clear(body, h('p', { class: 'error', role: 'alert' }, errorText(e))),
  );
  return h('div', {}, h('h2', {}, 'Desktop app'), body);
}

settingsSections.push({ id: 'notifications', title: 'Notifications', render: notificationsSection }, { id: 'app', title: 'Desktop app', render: appSection });
