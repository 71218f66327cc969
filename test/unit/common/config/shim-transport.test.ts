import { describe, expect, it } from 'vitest';
import { dataPortOf, serviceSchema } from '../../../../common/config/service.js';

const parse = (shim: Record<string, unknown>) => serviceSchema.safeParse({ command: '/bin/true', shims: [{ listen: '127.0.0.1:7000', target: '127.0.0.1:6379', port: 7400, ...shim }] });

describe('a shim\'s transport', () => {
  it('is mtls unless asked; tcp uses port + 1 unless tcpPort says otherwise, never port itself', () => {
    const d = parse({});
    expect(d.success && d.data.shims[0]?.transport).toBe('mtls');
    const t = parse({ transport: 'tcp' });
    expect(t.success && dataPortOf(t.data.shims[0] as { port: number })).toBe(7401);
    expect(parse({ transport: 'tcp', tcpPort: 7400 }).success).toBe(false);
    expect(parse({ transport: 'tcp', port: 65535 }).success).toBe(false);
    expect(parse({ transport: 'tcp', port: 65535, tcpPort: 7401 }).success).toBe(true);
    expect(parse({ transport: 'udp' }).success).toBe(false);
  });
});
