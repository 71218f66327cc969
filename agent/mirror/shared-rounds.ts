/**
 * Runs one job per key at a time and lets callers share the work: a caller arriving while no round
 * of its key runs starts one; a caller arriving while one runs (it may have started before what the
 * caller needs) waits for the single next round, shared by everyone who arrived meanwhile. So many
 * callers at once cost two rounds, not one each (folder fsyncs, the mirror barrier's scan).
 */
export class SharedRounds<K, T> {
  private readonly state = new Map<K, { running: Promise<T>; next: Promise<T> | null }>();

  constructor(private readonly job: (key: K) => Promise<T>) {}

  run(key: K): Promise<T> {
    const s = this.state.get(key);
    if (!s) {
      const running = this.job(key);
      this.state.set(key, { running, next: null });
      void running.catch(() => undefined).finally(() => this.done(key));
      return running;
    }
    s.next ??= s.running.catch(() => undefined).then(() => this.job(key));
    return s.next;
  }

  private done(key: K): void {
    const s = this.state.get(key);
    if (!s) return;
    if (s.next) {
      const next = s.next;
      this.state.set(key, { running: next, next: null });
      void next.catch(() => undefined).finally(() => this.done(key));
    } else this.state.delete(key);
  }
}
