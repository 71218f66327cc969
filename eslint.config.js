// Lint, including the layering arrows of DESIGN.md: renderer → common ← main, agent → common.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ours = (layer) => [`**/${layer}/**`, `../${layer}/*`, `../../${layer}/*`, `../../../${layer}/*`];

// Only main/electron/ imports electron (DESIGN.md): every other layer's rule names it too.
const ELECTRON_ONLY = { name: 'electron', message: 'only main/electron/ imports electron' };

const forbid = (layers, message) => ({
  'no-restricted-imports': ['error', { paths: [ELECTRON_ONLY], patterns: layers.map((l) => ({ group: ours(l), message })) }],
});

export default tseslint.config(
  { ignores: ['node_modules/', '**/dist/', 'release/', 'bench-results/', '.scratch/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'named exports only' }],
    },
  },
  { files: ['common/**/*.ts'], rules: forbid(['agent', 'main', 'renderer'], 'common/ imports nothing of ours outside common/') },
  { files: ['common/**/*.ts'], ignores: ['common/node/**'], rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON_ONLY], patterns: [{ group: [...ours('agent'), ...ours('main'), ...ours('renderer'), '**/node/*', 'node:*'], message: 'common/ outside common/node is plain ES: no Node modules' }] }] } },
  { files: ['agent/**/*.ts'], rules: forbid(['main', 'renderer'], 'agent/ imports common/ only') },
  { files: ['main/**/*.ts'], ignores: ['main/electron/**'], rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON_ONLY], patterns: [...['agent', 'renderer'].map((l) => ({ group: ours(l), message: 'main/ imports common/ only' }))] }] } },
  { files: ['renderer/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON_ONLY], patterns: [{ group: [...ours('agent'), ...ours('main'), '**/common/node/*', 'node:*'], message: 'renderer/ sees common/ types only' }] }] } },
  { files: ['main/electron/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [...['agent', 'renderer'].map((l) => ({ group: ours(l), message: 'main/ imports common/ only' }))] }] } },
  { files: ['test/**/*.ts', 'scripts/**/*.js', 'bin/**/*.js'], rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON_ONLY] }] } },
  // The renderer bundle carries no zod: from common/ it takes types, plus the few zod-free run-time
  // pieces of the bridge client (the RPC client, its port type and the proxy that builds the bridge).
  {
    files: ['renderer/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [{ name: 'zod', message: 'the renderer gets schemas as JSON Schema through the bridge, never zod itself' }],
        patterns: [{ group: ['**/common/**/*.js', '!**/common/rpc/rpc-client.js', '!**/common/rpc/port.js', '!**/common/bridge/bridge-proxy.js', '!**/common/bridge/wire-names.js'], allowTypeImports: true, message: 'renderer/ imports only types from common/ (except the zod-free bridge client)' }],
      }],
    },
  },
  { files: ['test/helpers/global-setup.ts', 'vitest.config.ts', 'eslint.config.js'], rules: { 'no-restricted-syntax': 'off' } },
);
