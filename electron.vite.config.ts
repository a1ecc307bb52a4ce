/**
 * electron-vite build of the desktop app. Our folders are not electron-vite's defaults, so every
 * input is explicit:
 *   main     src-main/hosts/electron/main.ts -> out/main/index.js
 *            src-main/runner/worker.ts       -> out/main/worker.js (forked per run by the Runner)
 *            src-main/report/report-worker.ts -> out/main/report-worker.js (the report thread)
 *            src-main/runner/ppo-critic-worker.ts -> out/main/ppo-critic-worker.js (PPO's updateThreads 2)
 *            src-main/runner/coma-critic-worker.ts -> out/main/coma-critic-worker.js (COMA's updateThreads 2)
 *            src-main/runner/pg-critic-worker.ts -> out/main/pg-critic-worker.js (PG's updateThreads 2)
 *   preload  src-main/hosts/electron/preload.ts -> out/preload/index.cjs (CommonJS: sandboxed
 *            preloads cannot be ES modules)
 *   renderer src-renderer/index.html -> out/renderer (also what `cairn serve` serves)
 * Dependencies (sqlite3's native addon, tfjs and its backends, ws) stay external in main and are
 * loaded from node_modules at run time.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

const root = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      rollupOptions: {
        input: {
          index: resolve(root, 'src-main/hosts/electron/main.ts'),
          worker: resolve(root, 'src-main/runner/worker.ts'),
          'report-worker': resolve(root, 'src-main/report/report-worker.ts'),
          'ppo-critic-worker': resolve(root, 'src-main/runner/ppo-critic-worker.ts'),
          'coma-critic-worker': resolve(root, 'src-main/runner/coma-critic-worker.ts'),
          'pg-critic-worker': resolve(root, 'src-main/runner/pg-critic-worker.ts'),
        },
        external: ['sqlite3', /^@tensorflow\//],
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      rollupOptions: {
        input: { index: resolve(root, 'src-main/hosts/electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    base: './',
    plugins: [vue()],
    server: { fs: { allow: [root] } },
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      rollupOptions: { input: { index: resolve(root, 'src-renderer/index.html') } },
    },
  },
});
