import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import type { z } from 'zod';
import type { BerthService, DesktopService, IpcResult, Snapshot } from '../../src-shared/bridge.ts';
import { DESKTOP_CHANNELS, ipcChannel, IPC_SNAPSHOT_CHANNEL, SERVICE_CHANNELS, type BridgeChannel } from '../../src-shared/bridge.ts';
import type { ErrorInfo } from '../../src-shared/errors.ts';
import { ApiError, DaemonNotRunningError } from '../api/client.ts';
import { errorResponse, parseRequest } from '../api/http.ts';

// Every IPC handler goes through ONE wrapper (STYLE.md habit 8): it checks the sender
// (the app's own main frame showing exactly the app's page), parses the one argument
// with the channel's zod schema (parseRequest, as the API parses bodies), and answers an
// IpcResult whose errors are the same {kind, message, hint} the control API sends —
// errorResponse() is the API's own mapping. The handlers call the same BerthService the HTTP routes call.

/** What the handlers need. */
export interface IpcDeps {
  /** The mount service (the AppService facade: hosted or attached). */
  service: BerthService;
  desktop: DesktopService;
  snapshot: () => Promise<Snapshot>;
  /** True for the app's own window and page (MainWindow.isAppSender). */
  isAppSender: (event: IpcMainInvokeEvent) => boolean;
  /** The page asked for its snapshot (it is listening for events now). */
  snapshotAsked?: () => void;
  /** Its answer is settled (the reply goes out next). */
  snapshotAnswered?: () => void;
  log?: (message: string) => void;
}

/** The answer to a caller that is not the app's page. */
export const FOREIGN_SENDER: ErrorInfo = {
  kind: 'Permission',
  message: "refused: this request did not come from Berth's own window",
};

/** The {kind, message, hint} the control API would answer for this error. */
export function ipcError(err: unknown): ErrorInfo {
  // In attached mode the daemon already answered with its ErrorInfo: pass it on unchanged.
  if (err instanceof ApiError) return err.info;
  if (err instanceof DaemonNotRunningError) return { kind: 'Unavailable', message: err.message, hint: 'Berth is reconnecting to its service; try again in a moment' };
  return errorResponse(err).body.error;
}

type Handler = (input: unknown) => Promise<unknown>;

/**
 * Registers every bridge channel and the snapshot channel; returns the function that
 * removes them again.
 */
export function registerIpc(deps: IpcDeps): () => void {
  const log = deps.log ?? (() => undefined);
  const channels: string[] = [];
  const handle = (channel: string, schema: z.ZodType, run: Handler) => {
    channels.push(channel);
    ipcMain.handle(channel, async (event, ...args: unknown[]): Promise<IpcResult<unknown>> => {
      if (!deps.isAppSender(event)) {
        log(`IPC ${channel} refused from ${event.senderFrame?.url ?? 'a frame that is gone'}`);
        return { ok: false, error: FOREIGN_SENDER };
      }
      try {
        if (args.length > 1) return { ok: false, error: { kind: 'Usage', message: `${channel} takes one argument, got ${args.length}` } };
        const input = parseRequest(schema, args[0]);
        return { ok: true, value: await run(input) };
      } catch (err) {
        return { ok: false, error: ipcError(err) };
      }
    });
  };

  for (const name of Object.keys(SERVICE_CHANNELS) as (keyof typeof SERVICE_CHANNELS)[]) {
    const method = deps.service[name] as Handler;
    handle(ipcChannel(name), SERVICE_CHANNELS[name], (input) => method(input));
  }
  for (const name of Object.keys(DESKTOP_CHANNELS) as (keyof typeof DESKTOP_CHANNELS)[]) {
    const method = deps.desktop[name] as Handler;
    handle(ipcChannel(name), DESKTOP_CHANNELS[name], (input) => method(input));
  }
  handle(IPC_SNAPSHOT_CHANNEL, SERVICE_CHANNELS.info, async () => {
    deps.snapshotAsked?.();
    try {
      return await deps.snapshot();
    } finally {
      deps.snapshotAnswered?.();
    }
  });
  return () => {
    for (const c of channels) ipcMain.removeHandler(c);
  };
}

/** Every channel registerIpc answers (the bridge's, then the snapshot). */
export function registeredChannels(): string[] {
  return [...(Object.keys({ ...SERVICE_CHANNELS, ...DESKTOP_CHANNELS }) as BridgeChannel[]).map(ipcChannel), IPC_SNAPSHOT_CHANNEL];
}
