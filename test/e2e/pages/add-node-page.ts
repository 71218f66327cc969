import type { Locator } from 'playwright-core';
import type { AppPage } from './app-page.js';

/** The Add node wizard: the form, the host key to confirm, the live steps and the outcome. */
export class AddNodePage {
  constructor(private readonly app: AppPage) {}

  async open(): Promise<void> {
    await this.app.go('nodes');
    await this.app.by('node-add').click();
    await this.app.by('enroll-form').waitFor();
  }

  async fill(o: { address: string; port: number; user: string; keyFile: string; name: string; agentPort: number; installRoot: string }): Promise<void> {
    await this.app.by('enroll-address').fill(o.address);
    await this.app.by('enroll-port').fill(String(o.port));
    await this.app.by('enroll-user').fill(o.user);
    await this.app.by('enroll-auth-kind').selectOption('key-file');
    await this.app.by('enroll-key-file').fill(o.keyFile);
    await this.app.by('enroll-name').fill(o.name);
    await this.app.by('enroll-advanced-toggle').click();
    await this.app.by('enroll-agent-port').fill(String(o.agentPort));
    await this.app.by('enroll-install-root').fill(o.installRoot);
  }

  async start(): Promise<void> {
    await this.app.by('enroll-start').click();
  }

  fingerprint(): Locator {
    return this.app.by('enroll-fingerprint');
  }

  async acceptKey(): Promise<void> {
    await this.app.by('enroll-accept-key').click();
  }

  step(name: string): Locator {
    return this.app.by(`enroll-step-${name}`);
  }

  ok(): Locator {
    return this.app.by('enroll-ok');
  }

  failed(): Locator {
    return this.app.by('enroll-failed');
  }
}
