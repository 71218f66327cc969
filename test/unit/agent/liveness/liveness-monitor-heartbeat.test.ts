import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { endMonitors, watch } from './monitor-harness.js';

// LivenessMonitor with a heartbeat file in a fresh folder, with real timers (file times are real).

let dir = '';
let file = '';

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-heartbeat-'));
  file = path.join(dir, 'hb');
});

afterEach(() => {
  endMonitors();
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const WAIT = { timeout: 3000, interval: 5 };

/** Sets the file's modification time to now (or `msAgo` earlier), creating it when missing. */
function touch(msAgo = 0): void {
  fs.closeSync(fs.openSync(file, 'a'));
  const t = new Date(Date.now() - msAgo);
  fs.utimesSync(file, t, t);
}

const notTouched = (f: string, timeoutMs = 100) => new RegExp(`^heartbeat file ${f} not touched for (\\d+)ms \\(timeout ${timeoutMs}ms\\)`);

describe('heartbeat file', () => {
  it('keeps a program alive while the file is touched in time, and hangs it once that stops', async () => {
    // A timeout ten times the touch interval, so that a busy machine does not make it flaky.
    const { monitor, seen } = watch({ heartbeat: { file, timeout: '200ms' } });
    touch();
    monitor.begin({ alreadyReady: false });
    const toucher = setInterval(() => touch(), 20);
    try {
      await new Promise((resolve) => setTimeout(resolve, 450)); // more than two timeouts
      expect(seen.hung).toEqual([]);
      expect(monitor.report().health).toBeNull();
    } finally {
      clearInterval(toucher);
    }
    touch();
    const lastTouch = Date.now();
    await vi.waitFor(() => expect(seen.hung).toHaveLength(1), WAIT);
    expect((seen.hungAt ?? 0) - lastTouch).toBeGreaterThanOrEqual(199);
    expect(seen.hung[0]).toMatch(new RegExp(`${notTouched(file, 200).source}$`));
  });

  it('hangs a program that does not touch the file after its start, at the timeout and not before', async () => {
    touch(60_000); // left over from an earlier run
    const { monitor, seen } = watch({ heartbeat: { file, timeout: '100ms' } });
    const started = Date.now();
    monitor.begin({ alreadyReady: false });
    await vi.waitFor(() => expect(seen.hung).toHaveLength(1), WAIT);
    expect((seen.hungAt ?? 0) - started).toBeGreaterThanOrEqual(100);
    const [, age] = notTouched(file).exec(seen.hung[0] ?? '') ?? [];
    expect(Number(age)).toBeGreaterThan(100);
    expect(Number(age)).toBeLessThan(60_000); // counted from the start, not from the old file time
    expect(seen.hung[0]).toMatch(new RegExp(`${notTouched(file).source}$`));
  });

  it('hangs a program whose file never appears, saying that it is missing', async () => {
    const { monitor, seen } = watch({ heartbeat: { file, timeout: '100ms' } });
    monitor.begin({ alreadyReady: false });
    await vi.waitFor(() => expect(seen.hung).toHaveLength(1), WAIT);
    expect(seen.hung[0]).toMatch(new RegExp(`${notTouched(file).source}; heartbeat file ${file}: ENOENT$`));
  });

  it('names a heartbeat folder that does not exist', async () => {
    const missing = path.join(dir, 'missing');
    const inMissing = path.join(missing, 'hb');
    const { monitor, seen } = watch({ heartbeat: { file: inMissing, timeout: '100ms' } });
    monitor.begin({ alreadyReady: false });
    await vi.waitFor(() => expect(seen.hung).toHaveLength(1), WAIT);
    expect(seen.hung[0]).toMatch(notTouched(inMissing));
    expect(seen.hung[0]).toContain(`heartbeat folder ${missing} does not exist`);
    expect(monitor.report().health).toContain(`heartbeat folder ${missing} does not exist`);
  });

  it('watches from each begin again', async () => {
    const { monitor, seen } = watch({ heartbeat: { file, timeout: '100ms' } });
    monitor.begin({ alreadyReady: false });
    await vi.waitFor(() => expect(seen.hung).toHaveLength(1), WAIT);
    const started = Date.now();
    monitor.begin({ alreadyReady: false });
    await vi.waitFor(() => expect(seen.hung).toHaveLength(2), WAIT);
    expect((seen.hungAt ?? 0) - started).toBeGreaterThanOrEqual(100);
  });

  // BUG agent/liveness/liveness-monitor.ts:197,199 (with common/config/service.ts:69, where
  // heartbeat.timeout has no maximum below the 365 days of duration()): a timeout above 2^31-1 ms
  // (about 24.8 days) overflows setTimeout, which then fires after 1 ms, so the file is stat'ed
  // about a thousand times a second instead of once per timeout.
  it('does not poll the file in a loop when the timeout is very long (30 days)', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined); // Node's TimeoutOverflowWarning
    const stat = vi.spyOn(fs, 'statSync');
    touch();
    const { monitor } = watch({ heartbeat: { file, timeout: '30d' } });
    monitor.begin({ alreadyReady: false });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(stat.mock.calls.length).toBeLessThanOrEqual(1);
  });
});
