import { findContentIn } from '../../src-shared/sourceInput.ts';

// What the app makes of text handed to it from outside: the command line of a second
// launch, an ipfs:// link the OS routed to it, the clipboard. One function finds content
// in all of them (the shared findContentIn, so every face accepts the same things).

/** Flag that starts the app hidden in the tray (the login item passes it). */
export const HIDDEN_FLAG = '--hidden';

/**
 * The IPFS/IPNS content named in `text` as a Source-field value ("/ipfs/<cid>/path",
 * "/ipns/<name>"), or undefined when there is none.
 */
export function contentSource(text: string): string | undefined {
  const guess = findContentIn(text);
  if (!guess) return undefined;
  return guess.kind === 'ipfs' ? guess.root : `/ipns/${guess.name}`;
}

/**
 * The content named on a command line, skipping the executable, the app path and
 * flags (Chromium adds its own switches to a second instance's argv).
 */
export function contentFromArgv(argv: readonly string[]): string | undefined {
  for (const arg of argv.slice(1)) {
    if (typeof arg !== 'string' || arg.startsWith('-')) continue;
    const found = contentSource(arg);
    if (found) return found;
  }
  return undefined;
}

