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
  // koffi finds its prebuilt native library next to its own files, and ssh2 loads optional native
  // bindings: they stay modules (the agent bundle uploaded to nodes needs only koffi).
  external: ['koffi', 'ssh2', 'cpu-features'],
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  banner: { js: "import { createRequire as __armoryRequire } from 'node:module'; const require = __armoryRequire(import.meta.url);" },
  logLevel: 'warning',
});

// The GUI: browser code only, bundled with its CSS (uPlot's included) into dist/renderer/, which
// the console serves and the Electron window loads.
await build({
  entryPoints: { app: 'renderer/main.ts' },
  outdir: 'dist/renderer',
  bundle: true,
  platform: 'browser',
  target: ['chrome120'],
  format: 'esm',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});

// The desktop app (main process and preload): scripts/build-electron.js.
await import('./build-electron.js');
