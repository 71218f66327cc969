/**
 * A line diff of two texts for the "diff before apply" view: ` ` kept, `-` removed, `+` added, by
 * longest common subsequence. Texts beyond `maxLines` are shown as a whole replacement instead, so
 * that the quadratic table stays small.
 */
export function lineDiff(before: string, after: string, maxLines = 3000): string[] {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  if (a.length > maxLines || b.length > maxLines) return [...a.map((l) => `-${l}`), ...b.map((l) => `+${l}`)];
  const w = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * w);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lcs[i * w + j] = a[i] === b[j] ? (lcs[(i + 1) * w + j + 1] as number) + 1 : Math.max(lcs[(i + 1) * w + j] as number, lcs[i * w + j + 1] as number);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push(` ${a[i] as string}`);
      i += 1;
      j += 1;
    } else if ((lcs[(i + 1) * w + j] as number) >= (lcs[i * w + j + 1] as number)) out.push(`-${a[i++] as string}`);
    else out.push(`+${b[j++] as string}`);
  }
  while (i < a.length) out.push(`-${a[i++] as string}`);
  while (j < b.length) out.push(`+${b[j++] as string}`);
  return out;
}
