// Built into main/electron/dist/ (not committed): only main/electron/ holds code that imports electron.
// Bundles the desktop app's main process (main/electron/dist/main.js, ES module) and its sandboxed
// preload (main/electron/dist/preload.cjs: a sandboxed preload must be one CommonJS file). Everything
// is bundled but electron itself and optional native add-ons (ssh2's, ws's), which their modules
// load inside try/catch and do without: the packaged app.asar then needs no node_modules.
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node22', sourcemap: 'linked', logLevel: 'warning' };

await Promise.all([
  build({
    ...common,
    entryPoints: { main: 'main/electron/main.ts' },
    outdir: 'main/electron/dist',
    format: 'esm',
    external: ['electron', '*.node', 'cpu-features', 'bufferutil', 'utf-8-validate'],
    banner: { js: "import { createRequire as __armoryRequire } from 'node:module'; const require = __armoryRequire(import.meta.url);" },
  }),
  build({
    ...common,
    entryPoints: { preload: 'main/electron/preload/preload.ts' },
    outdir: 'main/electron/dist',
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    external: ['electron'],
  }),
]);
