import { answersPing } from './resp-client.js';

/** One sample: when (wall clock, ms), and which hosts' redis answered PING. */
export interface AnswerSample {
  t: number;
  answering: string[];
}

/**
 * Asks every host's redis directly (its own address, not the VIP) for PING every `everyMs`, so
 * that two instances answering at once — two actives — show up even when the VIP has one holder.
 * From the root namespace, which is on the test bridge.
 */
export class AnswerSampler {
  readonly samples: AnswerSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly hosts: Record<string, string>,
    private readonly port: number,
    private readonly everyMs = 100,
  ) {}

  async answering(): Promise<string[]> {
    const entries = Object.entries(this.hosts);
    const ok = await Promise.all(entries.map(([, address]) => answersPing(address, this.port, Math.max(50, this.everyMs - 20))));
    return entries.filter((_, i) => ok[i]).map(([h]) => h);
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      const t = Date.now();
      void this.answering().then((answering) => {
        this.samples.push({ t, answering });
        this.busy = false;
      });
    }, this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Samples in which more than one host's redis answered. */
  doubles(): AnswerSample[] {
    return this.samples.filter((s) => s.answering.length > 1);
  }
}
