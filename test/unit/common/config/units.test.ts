import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duration, formatDuration, parseDuration, parseSize, size } from '../../../../common/config/units.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['0s', 0],
    ['1m30s', 90_000],
    ['1h1m1s1ms', 3_661_001],
    ['1.5s', 1500],
    ['0.5ms', 1],
    [' 2s ', 2000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '   ', '5', '5 seconds', '1 s', '-1s', '+1s', 'ms', 's', '1x', '1S', '1.s', '.5s', '1e3ms', '1s-', 'Infinitys', 'NaNms'])(
    'refuses %j',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  it('refuses overly long text instead of scanning it (32 characters at most)', () => {
    expect(parseDuration('1ms'.repeat(10))).toBe(10); // 30 characters
    expect(parseDuration(`${'0'.repeat(30)}1s`)).toBe(1000); // 32 characters
    expect(parseDuration(`${'0'.repeat(31)}1s`)).toBeUndefined(); // 33 characters
    expect(parseDuration('1s'.repeat(100_000))).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [1500, '1500ms'],
    [2000, '2s'],
    [90_000, '90s'],
    [60_000, '1m'],
    [3_600_000, '1h'],
    [86_400_000, '1d'],
    [172_800_000, '2d'],
  ])('writes %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration for every whole number of milliseconds', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(100_000_000), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  it('round-trips whole multiples of every unit', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.constantFrom(1, 1000, 60_000, 3_600_000, 86_400_000), (n, unit) => {
        expect(parseDuration(formatDuration(n * unit))).toBe(n * unit);
      }),
    );
  });
});

describe('parseSize', () => {
  it.each([
    ['512b', 512],
    ['64KB', 65_536],
    ['64kb', 65_536],
    ['1.5KB', 1536],
    ['10MB', 10 * 1024 ** 2],
    ['1GB', 1024 ** 3],
    [' 10 MB ', 10 * 1024 ** 2],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', '10', 'KB', '-1KB', '10TB', '1e3b', 'ten MB', '10 M B'])('refuses %j', (text) => {
    expect(parseSize(text)).toBeUndefined();
  });
});

describe('duration() and size() schema fields', () => {
  it('turn text into numbers', () => {
    expect(duration().parse('1m30s')).toBe(90_000);
    expect(size().parse('4KB')).toBe(4096);
  });

  it('explain what is wrong with text that is not a duration or size', () => {
    const d = duration().safeParse('5 seconds');
    expect(d.success).toBe(false);
    expect(d.error?.issues[0]?.message).toMatch(/"5 seconds" is not a duration/);
    const s = size().safeParse('lots');
    expect(s.success).toBe(false);
    expect(s.error?.issues[0]?.message).toMatch(/"lots" is not a size/);
  });

  it('enforce their bounds and name them in the message', () => {
    const d = duration({ min: 1000, max: 60_000 });
    expect(d.parse('1s')).toBe(1000);
    expect(d.parse('1m')).toBe(60_000);
    expect(d.safeParse('999ms').error?.issues[0]?.message).toBe('999ms is out of range (1s to 1m)');
    expect(d.safeParse('61s').success).toBe(false);
    const s = size({ min: 4096, max: 8192 });
    expect(s.parse('8KB')).toBe(8192);
    expect(s.safeParse('9KB').error?.issues[0]?.message).toBe('9KB is out of range (4096 to 8192 bytes)');
  });

  it('refuse numbers without a unit', () => {
    expect(duration().safeParse(5).error?.issues[0]?.message).toMatch(/with a unit/);
    expect(size().safeParse(5).error?.issues[0]?.message).toMatch(/with a unit/);
  });
});
