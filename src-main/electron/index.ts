import { setFlagsFromString } from 'node:v8';
import { launchApp } from './main.ts';

// The Electron entry (electron-vite builds it to out/main/index.js). main.ts exports the
// lifecycle so tests can start it against the test double of 'electron'.

// The mount service runs in this process: optimise its hot paths early, as cli/berth.cjs
// does for the CLI and daemon (docs/architecture.md "Warm-up"). Module bodies ran before
// this line, but the functions that serve mounts have not been called yet.
if (!process.execArgv.some((a) => a.startsWith('--interrupt-budget'))) setFlagsFromString('--interrupt-budget=32768');

// One failed promise somewhere must not take every mount down with the app.
process.on('unhandledRejection', (reason) => {
  console.error(`${new Date().toISOString()} internal error (kept running): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
});

void launchApp().catch((err: unknown) => {
  console.error(`Berth could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
