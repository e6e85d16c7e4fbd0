import { contextBridge } from 'electron';

// Sandboxed preload (built to CommonJS). Per STYLE.md habit 8 it will expose ONE function per
// IPC channel of the contract in src-shared, never a generic send/invoke/on; the service team
// adds those. Until then it only tells the renderer which bridge it runs on.

/** What the page sees as `window.berth`. */
const bridge = Object.freeze({ kind: 'electron' as const });

contextBridge.exposeInMainWorld('berth', bridge);
