import type { Locator, Page } from 'playwright-core';

const T = (id: string) => `[data-testid="${id}"]`;

/** The shell: navigation between screens and the notifications shown in the page. */
export class AppPage {
  constructor(
    readonly page: Page,
    readonly url: string,
  ) {}

  by(testid: string): Locator {
    return this.page.locator(T(testid));
  }

  async open(): Promise<void> {
    await this.page.goto(this.url);
    await this.by('view-overview').waitFor();
  }

  async go(screen: 'overview' | 'nodes' | 'services' | 'groups' | 'events' | 'config' | 'settings'): Promise<void> {
    await this.by(`nav-${screen}`).click();
    await this.by(screen === 'config' ? 'view-config' : `view-${screen}`).waitFor();
  }

  toast(kind: string, service: string): Locator {
    return this.page.locator(`${T('toast')}[data-kind="${kind}"][data-service="${service}"]`).first();
  }
}
