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
  guests: { group: ['**/guests', '**/guests/**'], message: 'hosts and guests never import each other: hosts take any Vfs (STYLE.md habit 2).' },
  hosts: { group: ['**/hosts', '**/hosts/**'], message: 'hosts and guests never import each other: guests implement Vfs only (STYLE.md habit 2).' },
};

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
  {
    files: ['src-main/**'],
    ignores: ['src-main/electron/**', 'src-main/hosts/**', 'src-main/guests/**'],
    rules: restrict([rule.electron], [rule.electronDeep, rule.srcRenderer]),
  },
  {
    files: ['src-main/hosts/**'],
    rules: restrict([rule.electron], [rule.electronDeep, rule.srcRenderer, rule.guests]),
  },
  {
    files: ['src-main/guests/**'],
    rules: restrict([rule.electron], [rule.electronDeep, rule.srcRenderer, rule.hosts]),
  },
  {
    files: ['src-main/electron/**'],
    rules: restrict([], [rule.srcRenderer]),
  },
);
