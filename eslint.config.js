// Lint for the whole tree. Not type-aware on purpose: it stays fast on a 2-core machine;
// `npm run typecheck` (one tsconfig per layer) does the type work.
// The layer rules of DESIGN.md "Layers" are enforced here with no-restricted-imports, one
// block per folder. A later block's no-restricted-imports REPLACES an earlier one's (flat
// config does not merge rule options), so each block lists its folder's full set.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { builtinModules } from 'node:module';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Node built-ins, with and without the node: prefix ("fs", "fs/promises", "node:fs"). */
const nodeBuiltins = {
  paths: builtinModules.filter((m) => !m.startsWith('_')),
  patterns: ['node:*'],
};

const rule = {
  node: [
    ...nodeBuiltins.paths.map((name) => ({ name, message: 'this layer runs without Node: no Node built-ins (DESIGN.md "Layers").' })),
  ],
  nodePrefixed: { group: nodeBuiltins.patterns, message: 'this layer runs without Node: no node:* imports (DESIGN.md "Layers").' },
  electron: { name: 'electron', message: "only src-main/electron/ imports 'electron', so the rest runs under plain Node (DESIGN.md \"Layers\")." },
  electronDeep: { group: ['electron/*'], message: "only src-main/electron/ imports 'electron' (DESIGN.md \"Layers\")." },
  srcMain: { group: ['**/src-main', '**/src-main/**'], message: 'this layer never imports src-main (DESIGN.md "Layers"); share code through src-shared.' },
  srcRenderer: { group: ['**/src-renderer', '**/src-renderer/**'], message: 'nothing imports the renderer (DESIGN.md "Layers").' },
  react: { group: ['react', 'react/*', 'react-dom', 'react-dom/*', 'zustand', 'zustand/*'], message: 'src-shared is UI-free: no React or zustand (DESIGN.md "Layers").' },
  childProcess: [
    { name: 'child_process', message: 'start commands with sys/runCommand.ts: a FUSE-serving process must have no child of its own (a SIGCHLD while libfuse cancels its threads hangs it).' },
    { name: 'node:child_process', message: 'start commands with sys/runCommand.ts: a FUSE-serving process must have no child of its own (a SIGCHLD while libfuse cancels its threads hangs it).' },
  ],
};

/** The folders of src-main, and which of the others each may import ("what may import what"). */
const MAY_IMPORT = {
  electron: ['api', 'service', 'hosts', 'guests', 'nfs', 'ipfs', 'vfs', 'sys'],
  cli: ['api', 'service', 'hosts', 'guests', 'nfs', 'ipfs', 'vfs', 'sys'],
  api: ['service', 'hosts', 'guests', 'nfs', 'ipfs', 'vfs', 'sys'],
  service: ['hosts', 'guests', 'nfs', 'ipfs', 'vfs', 'sys'],
  hosts: ['nfs', 'vfs', 'sys'],
  guests: ['nfs', 'ipfs', 'vfs', 'sys'],
  nfs: ['vfs', 'sys'],
  ipfs: ['vfs', 'sys'],
  vfs: [],
  sys: [],
};
const SRC_MAIN_FOLDERS = Object.keys(MAY_IMPORT);
/** Folders whose code may start child processes itself: none (see the runCommand.ts block below). */
const SPAWNS = [];

/** The pattern that keeps `folder` from importing `other` (relative paths name it as a path segment). */
function layerRule(folder, other) {
  const why =
    (folder === 'hosts' && other === 'guests') || (folder === 'guests' && other === 'hosts')
      ? 'hosts and guests never import each other (STYLE.md habit 2)'
      : `src-main/${folder} may import ${MAY_IMPORT[folder].length ? `only ${MAY_IMPORT[folder].join(', ')} from src-main` : 'nothing from src-main'} (docs/architecture.md "Layers": arrows point down)`;
  return { group: [`**/${other}`, `**/${other}/**`, `!**/node_modules/**`], message: `${why}.` };
}

/** Node globals a Node-free layer must not reach for (tsc catches most, lint names the rule). */
const nodeGlobals = ['Buffer', 'process', 'require', '__dirname', '__filename', 'global', 'setImmediate'].map((name) => ({
  name,
  message: 'this layer runs without Node: use Uint8Array / TextEncoder and pass settings in (DESIGN.md "Layers").',
}));

/** no-restricted-imports with these path entries and pattern groups. */
function restrict(paths, patterns) {
  return { 'no-restricted-imports': ['error', { paths, patterns }] };
}

export default defineConfig(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'coverage/**', 'release/**', '**/*.d.ts'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'warn' },
    rules: {
      // `_`-prefixed names are deliberately unused (callback arity, destructuring away a field).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // FUSE and NFS callbacks and `never` checks make empty functions and non-null
      // assertions (after a bounds check the type system cannot see) legitimate.
      '@typescript-eslint/no-empty-function': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // verbatimModuleSyntax already forces `import type` where it matters.
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  // Plain JS/MJS/CJS files are Node scripts (launchers, icon generator, test polyfills).
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },

  // ---- Layer rules (DESIGN.md "Layers", STYLE.md habit 1) ----
  {
    files: ['src-shared/**'],
    rules: {
      ...restrict([...rule.node, rule.electron], [rule.nodePrefixed, rule.electronDeep, rule.srcMain, rule.srcRenderer, rule.react]),
      'no-restricted-globals': ['error', ...nodeGlobals],
    },
  },
  {
    files: ['src-renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      ...restrict([...rule.node, rule.electron], [rule.nodePrefixed, rule.electronDeep, rule.srcMain]),
      'no-restricted-globals': ['error', ...nodeGlobals],
    },
  },
  // src-main, folder by folder: what each may import from the others (docs/architecture.md
  // "Layers"). Arrows point down only: electron and cli -> api -> service -> hosts | guests
  // -> nfs | ipfs -> vfs; sys (the process's own OS plumbing) sits under all of them.
  // Hosts and guests never import each other; neither do the two faces.
  ...Object.entries(MAY_IMPORT).map(([folder, allowed]) => ({
    files: [`src-main/${folder}/**`],
    rules: restrict(
      [...(folder === 'electron' ? [] : [rule.electron]), ...(SPAWNS.includes(folder) ? [] : rule.childProcess)],
      [...(folder === 'electron' ? [] : [rule.electronDeep]), rule.srcRenderer, ...SRC_MAIN_FOLDERS.filter((f) => f !== folder && !allowed.includes(f)).map((f) => layerRule(folder, f))],
    ),
  })),
  // The one place that starts processes for a FUSE-serving process, and the launchers that
  // start the daemon or the app (they serve no FUSE themselves).
  {
    files: ['src-main/sys/runCommand.ts', 'src-main/cli/daemonClient.ts', 'src-main/cli/start.mjs'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
