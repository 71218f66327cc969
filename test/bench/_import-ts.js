// Loads TypeScript test helpers into a benchmark: bundles what the named modules export into one
// ESM file beside them (so that paths they find from import.meta.dirname stay right), imports it,
// and removes the bundle.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

/** `await importTs('test/campaign', ['campaign-bed.ts', 'run-campaign.ts'])` (dir relative to `root`). */
export async function importTs(root, dir, modules) {
  const at = path.join(root, dir);
  const out = path.join(at, `.bench-bundle-${process.pid}.mjs`);
  await build({
    stdin: { contents: modules.map((m) => `export * from './${m}';`).join('\n'), resolveDir: at, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: out,
    logLevel: 'warning',
  });
  try {
    return await import(out);
  } finally {
    fs.rmSync(out, { force: true });
  }
}
