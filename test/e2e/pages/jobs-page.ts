import type { Locator } from 'playwright-core';
import { waitFor } from '../../helpers/wait.js';
import type { AppPage } from './app-page.js';

/** The Jobs screen: run a job (answering its confirmation), follow the run, open a result. */
export class JobsPage {
  constructor(private readonly app: AppPage) {}

  by(testid: string): Locator {
    return this.app.by(testid);
  }

  async open(): Promise<void> {
    await this.app.by('nav-jobs').click();
    await this.app.by('view-jobs').waitFor();
  }

  /** Presses Run on a job and answers the confirmation: `accept: false` cancels. */
  async run(job: string, options: { accept: boolean }): Promise<void> {
    const answered = new Promise<string>((resolve) =>
      this.app.page.once('dialog', (d) => {
        resolve(d.message());
        void (options.accept ? d.accept() : d.dismiss());
      }),
    );
    await this.by(`job-run-${job}`).click();
    const message = await answered;
    if (!message.includes(`Run job ${job}?`)) throw new Error(`unexpected confirmation: ${message}`);
  }

  live(job: string): Locator {
    return this.by(`job-live-${job}`).first();
  }

  /** Waits until the newest run of a job started here has ended; answers its state. */
  async waitEnded(job: string, timeoutMs = 30_000): Promise<string> {
    return waitFor(`the run of ${job} to end`, async () => {
      const state = await this.live(job).getAttribute('data-state').catch(() => null);
      return state === 'finished' || state === 'error' ? state : undefined;
    }, { timeoutMs });
  }

  /** Waits until the detail panel shows a result of this job. */
  async waitDetail(job: string): Promise<void> {
    await waitFor(`the result of ${job}`, async () => (await this.by('job-detail').isVisible()) && ((await this.by('job-detail').locator('h2').first().textContent()) ?? '').includes(`Result of ${job},`));
  }

  verdict(attempt: number, replica: number): Locator {
    return this.by(`job-verdict-${attempt}-${replica}`);
  }

  resultRows(job: string): Locator {
    return this.by('jobs-results').locator(`tr[data-job="${job}"]`);
  }
}
