import type { Locator } from 'playwright-core';
import { waitFor } from '../../helpers/wait.js';
import type { AppPage } from './app-page.js';

/** One service's screen: its state on a node, its pid, log and recovery plot. */
export class ServiceDetailPage {
  constructor(
    private readonly app: AppPage,
    readonly name: string,
  ) {}

  async waitOpen(): Promise<void> {
    await this.app.by('view-service-detail').waitFor();
  }

  state(node: string): Locator {
    return this.app.by(`detail-state-${node}`);
  }

  /** Waits until the service shows `text` (e.g. "ready") on the node. */
  async waitState(node: string, text: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      `${this.name} to be ${text} on ${node}`,
      async () => {
        const shown = await this.state(node).textContent({ timeout: 1000 }).catch(() => null);
        if (shown === text) return true;
        // A timeout then says what the screen showed instead (with no badge for the node: what the instances area shows).
        const instead = shown ?? `no state for ${node}; the instances area shows ${JSON.stringify(await this.app.by('service-instances').textContent({ timeout: 1000 }).catch(() => null))}`;
        throw new Error(`the screen shows ${shown === null ? instead : JSON.stringify(shown)}`);
      },
      { timeoutMs, everyMs: 100 },
    );
  }

  async pid(node: string): Promise<number> {
    const text = (await this.app.by(`instance-${node}`).textContent()) ?? '';
    const m = /pid (\d+)/.exec(text);
    if (!m) throw new Error(`no pid shown: ${text}`);
    return Number(m[1]);
  }
}
