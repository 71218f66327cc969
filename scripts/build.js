// Bundles the agent into one file (dist/agent.js): what `armory-agent` runs here and what is
// shipped to remote nodes with a Node runtime.
import fs from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: {
    agent: 'agent/cli/entry.ts',
    armory: 'main/cli/entry.ts',
    'poll-worker': 'agent/os/poll-worker.ts',
    'config-reference': 'common/config/reference.ts',
    // The checkpoint API's clients: a shell command and a module programs import.
    'armory-checkpoint': 'agent/checkpoints/checkpoint-cli.ts',
    'checkpoint-client': 'agent/checkpoints/checkpoint-client.ts',
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

// The page of the GUI, for the console (which adds the same policy as a header) and the Electron
// window (which loads the file): nothing but our own script and style, and a connection back to us.
fs.writeFileSync(
  'dist/renderer/index.html',
  `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'">
<title>Armory</title><link rel="icon" href="data:,"><link rel="stylesheet" href="app.css"></head>
<body><div id="app" data-testid="app-root"><p class="loading">Loading Armory…</p></div><script type="module" src="app.js"></script></body></html>
`,
);

// The desktop app (main process and preload): scripts/build-electron.js.
await import('./build-electron.js');
