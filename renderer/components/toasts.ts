import type { NotificationView } from '../../common/bridge/events.js';
import { button, h } from './dom.js';

/**
 * Notifications in the page (a polite live region, newest on top, a few at a time) and, when the
 * user allowed it, through the browser's Notification API.
 */
export class Toasts {
  readonly el = h('section', { class: 'toasts', 'aria-live': 'polite', 'aria-label': 'Notifications', testid: 'toasts' });
  private readonly max = 5;

  constructor(private readonly onOpen: (n: NotificationView) => void) {}

  show(n: NotificationView): void {
    const t = h(
      'div',
      { class: `toast sev-${n.severity}`, role: 'status', testid: 'toast', 'data-kind': n.kind, 'data-service': n.service ?? '' },
      h('strong', { class: 'toast-title' }, n.title),
      h('p', { class: 'toast-body' }, n.body),
      n.service ? button('Open', `toast-open-${n.id}`, () => this.onOpen(n)) : null,
      button('Dismiss', `toast-dismiss-${n.id}`, () => t.remove(), { 'aria-label': `Dismiss: ${n.title}` }),
    );
    this.el.prepend(t);
    while (this.el.children.length > this.max) this.el.lastElementChild?.remove();
    setTimeout(() => t.remove(), n.severity === 'info' ? 15_000 : 60_000);
    if ('Notification' in window && Notification.permission === 'granted' && document.visibilityState !== 'visible') {
      const native = new Notification(n.title, { body: n.body, tag: n.service ? `${n.node}/${n.service}` : n.id });
      native.onclick = () => {
        window.focus();
        this.onOpen(n);
      };
    }
  }
}
