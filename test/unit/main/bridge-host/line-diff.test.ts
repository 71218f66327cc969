import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineDiff } from '../../../../main/bridge-host/line-diff.js';

const side = (lines: string[], keep: string) => lines.filter((l) => l[0] === ' ' || l[0] === keep).map((l) => l.slice(1));

describe('lineDiff', () => {
  it('marks added and removed lines', () => {
    expect(lineDiff('a\nb\nc\n', 'a\nc\nd\n')).toEqual([' a', '-b', ' c', '+d']);
    expect(lineDiff('', 'x\n')).toEqual(['+x']);
  });

  it('always rebuilds both texts from its output', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 30 }), fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 30 }), (a, b) => {
        const d = lineDiff(a.join('\n'), b.join('\n'));
        expect(side(d, '-')).toEqual(a.join('\n') === '' ? [] : a);
        expect(side(d, '+')).toEqual(b.join('\n') === '' ? [] : b);
      }),
    );
  });

  it('falls back to a whole replacement for very long texts', () => {
    expect(lineDiff('a\nb', 'a\nc', 1)).toEqual(['-a', '-b', '+a', '+c']);
  });
});
