import type { Locator } from 'playwright-core';
import type { AppPage } from './app-page.js';

/** The New/Edit service form: fields by their configuration path (`restart.minInterval`). */
export class ServiceFormPage {
  constructor(private readonly app: AppPage) {}

  async openNew(): Promise<void> {
    await this.app.go('services');
    await this.app.by('service-new').click();
    await this.app.by('service-form').waitFor();
  }

  field(path: string): Locator {
    return this.app.by(`field-${path}`);
  }

  error(path: string): Locator {
    return this.app.by(`field-error-${path}`);
  }

  async openSection(path: string): Promise<void> {
    const details = this.app.by(`section-${path}`);
    if (!(await details.evaluate((d) => (d as unknown as { open: boolean }).open))) await this.app.by(`section-toggle-${path}`).click();
  }

  async fill(values: Record<string, string>): Promise<void> {
    for (const [path, v] of Object.entries(values)) await this.field(path).fill(v);
  }

  async save(): Promise<void> {
    await this.app.by('service-save').click();
  }

  result(): Locator {
    return this.app.by('form-result');
  }
}
