// Bundles the agent into one file (dist/agent.js): what `armory-agent` runs here and what is
// shipped to remote nodes with a Node runtime.
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
