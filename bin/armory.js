#!/usr/bin/env node
// The manager's command line; the bundle is built by `npm ci` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/armory.js', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('armory: dist/armory.js is missing; run `npm run build` first\n');
  process.exit(1);
}
await import(bundle.href);
