// Runs the BUILT Electron main process (out/main/index.js) under plain Node, with the
// 'electron' import resolved to the one test double (test/helpers/electron.ts, loaded
// through tsx), so a test can check the bundle itself: its externals, the paths it
// computes from import.meta.url, and its lifecycle. app.exit() of the double ends this
// process with that code. Usage: node --import tsx/esm runBuiltMain.mjs <main.js> <userData> [argv…]
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

const double = new URL('./electron.ts', import.meta.url).href;
register(
  `data:text/javascript,${encodeURIComponent(
    `export async function resolve(specifier, context, next) {
       return specifier === 'electron' ? { url: ${JSON.stringify(double)}, shortCircuit: true } : next(specifier, context);
     }`,
  )}`,
);

const [main, userData, ...argv] = process.argv.slice(2);
const { app, BrowserWindow } = await import(double);
app.paths.userData = userData;
app.ready = false;
app.on('exited', (code) => {
  // What the bundle pointed its window at, for the test to check on disk.
  const win = BrowserWindow.created[0];
  process.stdout.write(`built-main-window ${JSON.stringify({ preload: win?.options.webPreferences?.preload, loaded: win?.loaded })}\n`);
  process.exit(code);
});
process.argv = [process.execPath, main, ...argv];
await import(pathToFileURL(main).href);
