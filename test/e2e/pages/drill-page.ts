import type { Locator } from 'playwright-core';
import type { AppPage } from './app-page.js';

/** The failover drill panel of a service's screen: fault picker, confirmation, refusal, progress and report. */
export class DrillPanel {
  constructor(private readonly app: AppPage) {}

  by(part: string): Locator {
    return this.app.by(`drill-${part}`);
  }

  /** Picks a fault and asks for the drill (the confirmation is shown next). */
  async ask(fault: string, seconds = 2): Promise<void> {
    await this.by('fault').selectOption(fault);
    await this.by('duration').fill(String(seconds));
    await this.by('start').click();
    await this.by('question').waitFor();
  }

  async confirm(): Promise<void> {
    await this.by('confirm').click();
  }

  /** Waits for the report of a finished drill. */
  async report(timeoutMs = 60_000): Promise<Locator> {
    await this.by('report').waitFor({ timeout: timeoutMs });
    return this.by('report');
  }
}
