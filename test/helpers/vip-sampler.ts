import fs from 'node:fs';

/** One sample: when, and which hosts had the address configured. */
export interface VipSample {
  t: number;
  holders: string[];
}

/**
 * Records every `everyMs` which test hosts hold a virtual IP (the address is a local address of
 * the host's network namespace). It reads /proc/PID/net/fib_trie of one process per namespace,
 * which shows that namespace's routing tables: no process is started per sample.
 */
export class VipSampler {
  readonly samples: VipSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly pattern: RegExp;

  constructor(
    ip: string,
    private readonly pids: Record<string, number>,
    private readonly everyMs = 10,
  ) {
    this.pattern = new RegExp(`\\|-- ${ip.replace(/\./g, '\\.')}\\n\\s+/32 host LOCAL`);
  }

  holders(): string[] {
    const out: string[] = [];
    for (const [host, pid] of Object.entries(this.pids)) {
      try {
        if (this.pattern.test(fs.readFileSync(`/proc/${pid}/net/fib_trie`, 'utf8'))) out.push(host);
      } catch {
        // the namespace's process is gone
      }
    }
    return out;
  }

  start(): void {
    this.timer = setInterval(() => this.samples.push({ t: performance.now(), holders: this.holders() }), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Samples in which more than one host held the address. */
  doubles(): VipSample[] {
    return this.samples.filter((s) => s.holders.length > 1);
  }

  /** The first and last time a host was seen holding the address, at or after `from`. */
  span(host: string, from = 0): { first: number; last: number } | null {
    const hits = this.samples.filter((s) => s.t >= from && s.holders.includes(host));
    return hits.length === 0 ? null : { first: (hits[0] as VipSample).t, last: (hits.at(-1) as VipSample).t };
  }
}
