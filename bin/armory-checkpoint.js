#!/usr/bin/env node
// The shell client of the checkpoint API (`armory-checkpoint save < state`, `load > state`).
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/armory-checkpoint.js', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('armory-checkpoint: dist/armory-checkpoint.js is missing; run `npm run build` first\n');
  process.exit(1);
}
await import(bundle.href);
