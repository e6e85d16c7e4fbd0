import { z } from 'zod';
import type {
  AddContentResponse,
  ApiEventName,
  ApiEvents,
  InfoResponse,
  LinkResponse,
  Notice,
  NodeStatus,
  ResolveResponse,
  Settings,
} from './api.ts';
import {
  AddContentRequestSchema,
  AddMountRequestSchema,
  BrowseRequestSchema,
  ClipboardRequestSchema,
  EntryLinkRequestSchema,
  LinkRequestSchema,
  ResolveRequestSchema,
  SettingsPatchSchema,
  ShutdownLevelSchema,
  type BrowseResponse,
} from './api.ts';
import type { ErrorInfo } from './errors.ts';
import { MountIdSchema, MountInputSchema } from './mountSpec.ts';
import type { MountStatus } from './mountState.ts';

// The bridge contract (DESIGN.md "Faces": one bridge, two faces). Every action the UI can
// take is a CHANNEL: a name, a zod schema for its one input, and a response type. The same
// table drives
// - the in-process service (src-main/service/TableService.ts) that HTTP routes and Electron
//   IPC handlers both call: one code path;
// - the Electron preload, which exposes one function per channel and nothing generic;
// - the main process's IPC wrapper, which checks the sender and parses every input here;
// - the browser bridge (src-renderer/bridge/http.ts), which maps each channel to its route.
// Desktop channels exist only in the Electron app; the browser face does without them.

/** A channel that takes no input. */
const NoInput = z.object({}).strict().optional();

/** The input of channels naming one mount. */
const MountRef = z.object({ id: MountIdSchema }).strict();

/** The service channels: answered by the mount service in every face. */
export const SERVICE_CHANNELS = {
  info: NoInput,
  listMounts: NoInput,
  addMount: AddMountRequestSchema,
  updateMount: z.object({ id: MountIdSchema, spec: MountInputSchema }).strict(),
  removeMount: z.object({ id: MountIdSchema, level: ShutdownLevelSchema.default('short') }).strict(),
  mount: MountRef,
  unmount: z.object({ id: MountIdSchema, level: ShutdownLevelSchema.default('short') }).strict(),
  mountAll: NoInput,
  unmountAll: z.object({ level: ShutdownLevelSchema.default('short') }).strict().optional(),
  getSettings: NoInput,
  updateSettings: SettingsPatchSchema,
  listNotices: NoInput,
  dismissNotice: z.object({ id: z.string().regex(/^n_[A-Za-z0-9]{1,64}$/, 'expected a notice id like n_0a1b2c') }).strict(),
  resolve: ResolveRequestSchema,
  link: LinkRequestSchema,
  browse: BrowseRequestSchema,
  entryLink: EntryLinkRequestSchema,
  nodeStatus: NoInput,
  addContent: AddContentRequestSchema,
  writeClipboard: ClipboardRequestSchema,
} as const satisfies Record<string, z.ZodType>;

/** Name of one service channel. */
export type ServiceChannel = keyof typeof SERVICE_CHANNELS;

/** What each service channel answers. */
export interface ServiceOutputs {
  info: InfoResponse;
  listMounts: MountStatus[];
  addMount: MountStatus;
  updateMount: MountStatus;
  removeMount: void;
  mount: MountStatus;
  unmount: MountStatus;
  mountAll: MountStatus[];
  unmountAll: MountStatus[];
  getSettings: Settings;
  updateSettings: Settings;
  listNotices: Notice[];
  dismissNotice: void;
  resolve: ResolveResponse;
  link: LinkResponse;
  browse: BrowseResponse;
  entryLink: LinkResponse;
  nodeStatus: NodeStatus;
  /** Imports a local file or folder into the node (pinned) and gives its CID and links. */
  addContent: AddContentResponse;
  /** Writes the desktop clipboard (the app serves it; a headless daemon answers Unavailable). */
  writeClipboard: void;
}

/** Input type of a channel (what the caller passes, defaults not yet applied). */
export type ChannelInput<S extends z.ZodType> = z.input<S>;

/** A channel as a method: channels whose input may be absent take an optional argument. */
export type ChannelMethod<S extends z.ZodType, O> = undefined extends z.input<S> ? (input?: z.input<S>) => Promise<O> : (input: z.input<S>) => Promise<O>;

/**
 * The mount service as every face sees it: one async method per service channel. The
 * in-process TableService, the HTTP ApiClient (CLI, Electron attached to a daemon) and the
 * renderer's bridges all implement it.
 */
export type BerthService = {
  [K in ServiceChannel]: ChannelMethod<(typeof SERVICE_CHANNELS)[K], ServiceOutputs[K]>;
};

/** Settings that belong to the desktop app (the OS integration), not to the mount service. */
export const DesktopSettingsSchema = z
  .object({
    /** Start Berth hidden in the tray at login (login items; an XDG autostart entry on Linux). */
    launchAtLogin: z.boolean(),
    /** Open ipfs:// and ipns:// links with Berth (the add dialog, prefilled). */
    protocolHandler: z.boolean(),
  })
  .strict();
/** The desktop app's own settings. */
export type DesktopSettings = z.infer<typeof DesktopSettingsSchema>;

/** The desktop channels: only the Electron app answers them. */
export const DESKTOP_CHANNELS = {
  /** Shows the OS folder picker; `path` is null when the user cancelled. */
  pickFolder: z
    .object({
      title: z.string().max(200).optional(),
      defaultPath: z.string().max(4096).refine((p) => p.startsWith('/'), { message: 'expected an absolute path' }).optional(),
    })
    .strict()
    .optional(),
  /** Opens a folder in the file manager. */
  openFolder: z
    .object({
      path: z
        .string()
        .min(1)
        .max(4096)
        .refine((p) => p.startsWith('/'), { message: 'expected an absolute path starting with "/"' })
        .refine((p) => !p.includes('\0'), { message: 'path contains a NUL byte' }),
    })
    .strict(),
  getDesktopSettings: NoInput,
  updateDesktopSettings: DesktopSettingsSchema.partial().strict(),
} as const satisfies Record<string, z.ZodType>;

/** Name of one desktop channel. */
export type DesktopChannel = keyof typeof DESKTOP_CHANNELS;

/** What each desktop channel answers. */
export interface DesktopOutputs {
  pickFolder: { path: string | null };
  openFolder: void;
  getDesktopSettings: DesktopSettings;
  updateDesktopSettings: DesktopSettings;
}

/** The desktop channels as methods. */
export type DesktopService = {
  [K in DesktopChannel]: ChannelMethod<(typeof DESKTOP_CHANNELS)[K], DesktopOutputs[K]>;
};

/** Every channel of the bridge, service and desktop, in one table (the preload exposes exactly these). */
export const BRIDGE_CHANNELS = { ...SERVICE_CHANNELS, ...DESKTOP_CHANNELS } as const;
/** Name of any bridge channel. */
export type BridgeChannel = keyof typeof BRIDGE_CHANNELS;

/** The IPC channel name of a bridge channel ("berth:listMounts"). */
export function ipcChannel(name: BridgeChannel): `berth:${BridgeChannel}` {
  return `berth:${name}`;
}
/** The IPC channel on which the main process pushes BridgeEvents to the window. */
export const IPC_EVENT_CHANNEL = 'berth:event';

/** How an IPC handler answers: errors travel as data so the renderer gets {kind,message,hint}, not a stack. */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/** The state of the bridge's live connection to the service (the browser face can lose it). */
export interface ConnectionState {
  state: 'connecting' | 'open' | 'lost';
  /** Why it was lost, for the banner. */
  message?: string;
  /** When the next reconnect attempt runs (ISO 8601), while lost. */
  retryAt?: string;
}

/**
 * One event on the bridge: every API event (a `snapshot` first, then one per change),
 * the connection state, and requests from the desktop shell to the window (the tray's
 * "Mount CID from clipboard…", a second launch, an ipfs:// link) to open the add dialog.
 */
export type BridgeEvent =
  | { [K in ApiEventName]: { type: K; data: ApiEvents[K] } }[ApiEventName]
  | { type: 'connection'; data: ConnectionState }
  | { type: 'openAdd'; data: { source?: string } };

/** What the renderer can do where it runs. */
export interface BridgeCapabilities {
  /** A native folder picker ("Choose…" beside Mount point). */
  pickFolder: boolean;
  /** "Open folder" in the file manager. */
  openFolder: boolean;
  /** Launch at login and the ipfs:// handler (desktop settings). */
  desktopSettings: boolean;
}

/**
 * Everything the renderer knows about the world: the service channels, the desktop ones
 * (which reject with Unavailable where `capabilities` says they are absent), and one
 * event subscription. Implemented by src-renderer/bridge/{electron,http}.ts.
 */
export type Bridge = BerthService &
  DesktopService & {
    readonly kind: 'electron' | 'browser';
    readonly capabilities: BridgeCapabilities;
    /** Follows the event stream; returns the unsubscribe function. A snapshot arrives first (and after every reconnect). */
    subscribe(listener: (ev: BridgeEvent) => void): () => void;
  };

/** An error that crossed the bridge: the service's {kind, message, hint}. */
export class BridgeError extends Error {
  override readonly name = 'BridgeError';
  constructor(readonly info: ErrorInfo) {
    super(info.message);
  }
}

/** The IPC channel the window asks for a fresh snapshot on (first load, and after the app re-attached). */
export const IPC_SNAPSHOT_CHANNEL = 'berth:snapshot';

/** What the window's first request returns: the same snapshot the event stream starts with. */
export type Snapshot = ApiEvents['snapshot'];

/**
 * What the sandboxed Electron preload exposes as `window.berth`: one function per bridge
 * channel (answering an IpcResult, since errors thrown across contextBridge lose their
 * fields), a snapshot, and one event subscription. src-renderer/bridge/electron.ts turns
 * it into a Bridge; src-main/electron/preload.ts builds it. Nothing generic is exposed.
 */
export type PreloadApi = {
  readonly kind: 'electron';
  readonly capabilities: BridgeCapabilities;
  /** Subscribes to events the main process pushes on IPC_EVENT_CHANNEL; returns the unsubscribe function. */
  onEvent(listener: (ev: BridgeEvent) => void): () => void;
  /** The table as it is now (mounts, settings, notices, info). */
  snapshot(): Promise<IpcResult<Snapshot>>;
} & {
  readonly [K in BridgeChannel]: (input?: unknown) => Promise<IpcResult<(ServiceOutputs & DesktopOutputs)[K]>>;
};
