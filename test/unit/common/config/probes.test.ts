import { describe, expect, it } from 'vitest';
import { splitHostPort, statusInRange, tcpProbeSchema } from '../../../../common/config/probes.js';

describe('probe addresses and status ranges', () => {
  it('reads status ranges as the configuration writes them', () => {
    expect(statusInRange(200, '200-399')).toBe(true);
    expect(statusInRange(399, '200-399')).toBe(true);
    expect(statusInRange(199, '200-399')).toBe(false);
    expect(statusInRange(500, '200-399')).toBe(false);
    expect(statusInRange(204, '204')).toBe(true);
    expect(statusInRange(200, '204')).toBe(false);
  });

  it('splits host:port, a bracketed IPv6 host without its brackets', () => {
    expect(splitHostPort('127.0.0.1:6379')).toEqual({ host: '127.0.0.1', port: 6379 });
    expect(splitHostPort('db.example:5432')).toEqual({ host: 'db.example', port: 5432 });
    expect(splitHostPort('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(tcpProbeSchema.safeParse({ tcp: '[::1]:65535' }).success).toBe(true);
    expect(tcpProbeSchema.safeParse({ tcp: '[::1]:65536' }).success).toBe(false);
    expect(tcpProbeSchema.safeParse({ tcp: 'host:0' }).success).toBe(false);
  });
});
