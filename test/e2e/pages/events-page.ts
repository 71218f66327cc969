import type { Locator } from 'playwright-core';
import type { AppPage } from './app-page.js';

export class EventsPage {
  constructor(private readonly app: AppPage) {}

  async open(): Promise<void> {
    await this.app.go('events');
  }

  async filter(what: 'node' | 'service' | 'kind', value: string): Promise<void> {
    await this.app.by(`events-filter-${what}`).selectOption(value);
  }

  rows(containing: string | RegExp): Locator {
    return this.app.by('events-list').locator('[data-testid="event-row"]', { hasText: containing });
  }
}
