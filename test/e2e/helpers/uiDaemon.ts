import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MountStatus } from '../../../src-shared/mountState.ts';
import { waitFor, type BerthSandbox, type DaemonProcess } from '../../helpers/berthDaemon.ts';
import { fuseMounts } from '../../helpers/peers.ts';

// `berth daemon --ui 127.0.0.1:PORT` in a test sandbox, with the address it printed.

/** A daemon serving the browser face. */
export interface UiDaemon {
  process: DaemonProcess;
  /** http://127.0.0.1:PORT */
  origin: string;
  port: number;
  token: string;
  /** The printed address, with #token=… */
  url: string;
}

/** Starts the daemon with its browser listener (port 0: any free port) and reads the printed address. */
export async function startUiDaemon(sb: BerthSandbox, port = 0): Promise<UiDaemon> {
  const process = await sb.startDaemon(['--ui', `127.0.0.1:${port}`]);
  const m = await waitFor(() => /Berth in your browser: (http:\/\/127\.0\.0\.1:(\d+))\/#token=(\S+)/.exec(process.output()), 15_000, 'the address line of `berth daemon --ui`');
  return { process, origin: m[1]!, port: Number(m[2]), token: m[3]!, url: `${m[1]}/#token=${m[3]}` };
}

/** Stops a daemon with SIGINT (it unmounts everything) and waits for it to exit. */
export async function stopDaemon(d: UiDaemon): Promise<void> {
  if (d.process.child.exitCode !== null || d.process.child.signalCode !== null) return;
  d.process.child.kill('SIGINT');
  await d.process.exited;
}

/** The mounts saved in the sandbox's mounts.json (what survives a restart). */
export async function savedMounts(sb: BerthSandbox): Promise<{ id: string; name?: string; host: { mountpoint?: string } }[]> {
  const text = await readFile(join(sb.configDir, 'mounts.json'), 'utf8').catch(() => '');
  if (!text) return [];
  return (JSON.parse(text) as { mounts?: { id: string; name?: string; host: { mountpoint?: string } }[] }).mounts ?? [];
}

/** Waits until the API reports the mount in `state`. */
export async function waitForState(sb: BerthSandbox, pred: (m: MountStatus) => boolean, what: string, timeoutMs = 30_000): Promise<MountStatus> {
  return await waitFor(async () => (await sb.client.list()).find(pred), timeoutMs, what);
}

/** True when a FUSE file system is mounted at `path` (mountinfo writes a space as \040). */
export function fuseMountedAt(path: string): boolean {
  return fuseMounts()
    .map((m) => m.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .includes(path);
}
