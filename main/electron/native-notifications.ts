import path from 'node:path';
import { Notification } from 'electron';
import type { NotificationView } from '../../common/bridge/events.js';

/**
 * Shows a notification of the notification center as a native one; a click opens the window on
 * the service it is about. Notifications are kept referenced until closed (else their click
 * handler can be collected before the user clicks).
 */
export class NativeNotifications {
  private readonly live = new Set<Notification>();

  constructor(
    private readonly iconsDir: string,
    private readonly reveal: (target: { node?: string; service?: string }) => void,
  ) {}

  show(n: NotificationView): void {
    if (!Notification.isSupported()) return;
    const level = n.severity === 'error' ? 'error' : n.severity === 'warning' ? 'warning' : 'ok';
    const native = new Notification({
      title: n.title,
      body: n.body,
      icon: path.join(this.iconsDir, `${level}.png`),
      urgency: n.severity === 'error' ? 'critical' : 'normal',
      silent: n.severity === 'info',
    });
    this.live.add(native);
    native.on('click', () => {
      this.reveal({ ...(n.node ? { node: n.node } : {}), ...(n.service ? { service: n.service } : {}) });
      native.close();
    });
    native.on('close', () => this.live.delete(native));
    native.show();
  }

  closeAll(): void {
    for (const n of this.live) n.close();
    this.live.clear();
  }
}
