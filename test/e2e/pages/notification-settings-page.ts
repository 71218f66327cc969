import type { Locator } from 'playwright-core';
import type { AppPage } from './app-page.js';

/** The Settings screen's notification and desktop-app sections (renderer/views/settings/notification-settings.ts). */
export class NotificationSettingsPage {
  constructor(private readonly app: AppPage) {}

  by(testid: string): Locator {
    return this.app.by(testid);
  }

  async open(): Promise<void> {
    await this.app.go('settings');
    await this.by('notification-form').waitFor();
  }

  async fillEmail(o: { host: string; port: number; security: 'none' | 'tls' | 'starttls'; user: string; password: string; from: string; to: string }): Promise<void> {
    await this.by('notify-email-enabled').check();
    await this.by('notify-email-host').fill(o.host);
    await this.by('notify-email-port').fill(String(o.port));
    await this.by('notify-email-security').selectOption(o.security);
    await this.by('notify-email-user').fill(o.user);
    await this.by('notify-email-password').fill(o.password);
    await this.by('notify-email-from').fill(o.from);
    await this.by('notify-email-to').fill(o.to);
  }

  async fillWebhook(url: string): Promise<void> {
    await this.by('notify-webhook-enabled').check();
    await this.by('notify-webhook-url').fill(url);
  }

  save(): Promise<void> {
    return this.by('notify-save').click();
  }

  fieldError(path: string): Locator {
    return this.by(`field-error-${path}`);
  }

  status(): Locator {
    return this.by('notify-status');
  }
}
