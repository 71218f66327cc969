// Bundles the agent into one file (dist/agent.js): what `armory-agent` runs here and what is
// shipped to remote nodes with a Node runtime.
import { build } from 'esbuild';

await build({
  entryPoints: {
    agent: 'agent/cli/entry.ts',
    armory: 'main/cli/entry.ts',
    'poll-worker': 'agent/os/poll-worker.ts',
    'config-reference': 'common/config/reference.ts',
  },
  // koffi finds its prebuilt native library next to its own files: it ships as a module, not bundled.
  external: ['koffi'],
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  banner: { js: "import { createRequire as __armoryRequire } from 'node:module'; const require = __armoryRequire(import.meta.url);" },
  logLevel: 'warning',
});
