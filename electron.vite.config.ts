import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { RENDERER_CSP } from './src-shared/csp.ts';

// The desktop app build (`npm run build`): main (ESM, the package is "type": "module"),
// a sandboxed preload (CommonJS: Electron cannot load an ESM preload with sandbox: true)
// and the React renderer. Output goes to out/{main,preload,renderer}, which
// electron-builder.yml packs. Nothing here needs the Electron binary.

const root = import.meta.dirname;

/**
 * The renderer's Content-Security-Policy (src-shared/csp.ts), injected as a <meta> into
 * the BUILT index.html only: the dev server needs inline scripts for React refresh, and
 * main.ts sends a header for the dev server instead. file:// pages get no response
 * headers, so the meta is what protects the packaged app.
 */
function cspMeta(): Plugin {
  return {
    name: 'berth:csp-meta',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: RENDERER_CSP }, injectTo: 'head-prepend' }],
  };
}

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      // Dependencies stay external (fuse-native is a native addon; the rest load from node_modules).
      externalizeDeps: true,
      rolldownOptions: { input: { index: resolve(root, 'src-main/electron/index.ts') } },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      // A sandboxed preload can require only 'electron': everything else is bundled in.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve(root, 'src-main/electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    // Relative asset URLs so the page works from file:// and from the daemon's /ui/.
    base: './',
    plugins: [react(), cspMeta()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      // electron-vite leaves the renderer unminified; the browser face downloads it.
      minify: true,
      rolldownOptions: { input: { index: resolve(root, 'src-renderer/index.html') } },
    },
  },
});
