import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../../common/config/load.js';

describe('configurations written as the documentation shows them', () => {
  it('accepts the liveness example and reads its durations', () => {
    const r = parseConfigText(`services:
  cache:
    command: /usr/local/bin/some-daemon
    notify: true
    watchdog: 2s
    probes:
      - { http: "http://127.0.0.1:8080/health", interval: 1s, timeout: 500ms, failures: 3 }
      - { tcp: "127.0.0.1:6379", interval: 1s }
      - { exec: ["/usr/bin/check-it"], interval: 5s }
    heartbeat: { file: /run/app/beat, timeout: 5s }
    startTimeout: 30s
`);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const svc = r.config.services.cache;
    expect(svc?.watchdog).toBe(2000);
    expect(svc?.probes).toHaveLength(3);
    expect(svc?.probes[0]).toMatchObject({ http: 'http://127.0.0.1:8080/health', interval: 1000, timeout: 500, failures: 3, status: '200-399' });
    expect(svc?.probes[1]).toMatchObject({ tcp: '127.0.0.1:6379', interval: 1000, timeout: 1000, failures: 3 });
    expect(svc?.probes[2]).toMatchObject({ exec: ['/usr/bin/check-it'], interval: 5000 });
    expect(svc?.heartbeat).toEqual({ file: '/run/app/beat', timeout: 5000 });
    expect(svc?.startTimeout).toBe(30_000);
  });

  it('refuses a probe with two kinds at once, with its line', () => {
    const r = parseConfigText('services:\n  a:\n    command: x\n    probes:\n      - { tcp: "127.0.0.1:1", exec: ["x"] }\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]?.line).toBe(5);
  });
});
