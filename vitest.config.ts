import { defineConfig } from 'vitest/config';

// Three projects: unit tests run in parallel; integration and e2e tests use real peers
// (FUSE, an IPFS RPC node, NFS servers, Chromium) and run one file at a time so mounts
// and ports never race each other on a 2-core machine.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/conformance/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          setupFiles: ['test/helpers/setup.ts'],
          // One js-ipfs peer and one fixture tree for the run, started on first use.
          globalSetup: ['test/helpers/globalSetup.ts'],
        },
      },
      {
        // The browser face end to end: Debian's Chromium against a real daemon (real FUSE,
        // the js-ipfs peer), one file at a time. Needs the built renderer (npm run build:renderer).
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
          setupFiles: ['test/helpers/setup.ts'],
        },
      },
    ],
  },
});
