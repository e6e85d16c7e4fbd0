import { z } from 'zod';
import type { ErrorInfo } from './errors.ts';
import type { MountStatus } from './mountState.ts';
import { MountIdSchema, MountInputSchema } from './mountSpec.ts';

// The control API contract (DESIGN.md "Faces"): HTTP/JSON on a unix socket, and on a
// loopback TCP listener with a bearer token. The daemon, the CLI client, the Electron
// bridge and the browser UI all build on this one file. Bodies are validated with these
// schemas on the server; responses are typed by the interfaces below.

/** Version prefix of every route; bump only with an incompatible change. */
export const API_PREFIX = '/v1';

/** Largest request body the API reads (larger ones get 413). */
export const API_BODY_LIMIT = 1024 * 1024;

/** How patiently mounts are unmounted (like the reference tool's shutdown levels). */
export const SHUTDOWN_LEVELS = ['patient', 'short', 'immediate'] as const;
/**
 * `patient` waits as long as files are busy; `short` forces (lazy unmount) after 10 s;
 * `immediate` detaches at once.
 */
export type ShutdownLevel = (typeof SHUTDOWN_LEVELS)[number];
/** Schema of a shutdown level. */
export const ShutdownLevelSchema = z.enum(SHUTDOWN_LEVELS, {
  error: `expected a shutdown level: ${SHUTDOWN_LEVELS.join(', ')}`,
});

/** App-wide settings, saved in mounts.json beside the mounts. */
export const SettingsSchema = z.object({
  /** IPFS node for specs without `node`: a multiaddr or "embedded"; absent = discover ($IPFS_PATH/api). */
  ipfsNode: z
    .string()
    .max(1024)
    .refine((s) => s === 'embedded' || s.startsWith('/'), { message: 'expected "embedded" or a multiaddr like /ip4/127.0.0.1/tcp/5001' })
    .optional(),
  /** Gateway used for share links. */
  gateway: z
    .string()
    .max(1024)
    .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'expected a gateway URL like http://127.0.0.1:8080 or https://dweb.link')
    .default('http://127.0.0.1:8080'),
  /** Share links use the subdomain form (https://<cid>.ipfs.<host>/) by default. */
  subdomainLinks: z.boolean().default(false),
  /** Trustless gateways the embedded node fetches missing blocks from (verified); absent = the public defaults. */
  trustlessGateways: z
    .array(z.string().max(1024).regex(/^https?:\/\/[^\s/?#]+\/?$/, 'expected a gateway origin like https://trustless-gateway.link or http://127.0.0.1:8080'))
    .max(32)
    .optional(),
  /** The embedded node never uses the network: a block it does not have fails at once. */
  offline: z.boolean().optional(),
  /** Bytes of fetched blocks the embedded node keeps (least recently used go first; pinned and MFS content never). */
  blockCacheMaxBytes: z.number().int().min(16 * 1024 * 1024, 'expected at least 16 MiB').max(2 ** 50).optional(),
  /** Bytes of IPFS folder listings kept on disk by CID (least recently used go first); 0 turns it off; absent = 64 MiB. */
  listingCacheMaxBytes: z.number().int().min(0, 'expected 0 (off) or a number of bytes').max(2 ** 50).optional(),
  /** Where new FUSE mounts go by default (`<mountFolder>/<name or short CID>`); absent = ~/Berth. */
  mountFolder: z
    .string()
    .max(4096)
    .refine((p) => p.startsWith('/'), { message: 'expected an absolute folder path starting with "/"' })
    .refine((p) => !p.includes('\0'), { message: 'path contains a NUL byte' })
    .optional(),
  /** "Copy CID" / "Copy gateway link" in the file manager's right-click menu (Nautilus scripts, Dolphin service menu). */
  fileManagerMenu: z.boolean().default(false),
});
/** App-wide settings. */
export type Settings = z.infer<typeof SettingsSchema>;
/**
 * A partial settings change (PUT /v1/settings merges it). `null` puts an optional setting
 * back to its default (RFC 7396 merge-patch style), since JSON cannot carry "absent":
 * `{ipfsNode: null}` goes back to discovering the node, `{mountFolder: null}` to ~/Berth.
 */
// Built field by field: `.partial()` would keep each field's default, so a patch naming
// one setting would silently put every other one back to its default.
export const SettingsPatchSchema = z
  .object({
    ipfsNode: SettingsSchema.shape.ipfsNode.unwrap().nullable().optional(),
    gateway: SettingsSchema.shape.gateway.unwrap().optional(),
    subdomainLinks: SettingsSchema.shape.subdomainLinks.unwrap().optional(),
    trustlessGateways: SettingsSchema.shape.trustlessGateways.unwrap().nullable().optional(),
    offline: SettingsSchema.shape.offline.unwrap().nullable().optional(),
    blockCacheMaxBytes: SettingsSchema.shape.blockCacheMaxBytes.unwrap().nullable().optional(),
    listingCacheMaxBytes: SettingsSchema.shape.listingCacheMaxBytes.unwrap().nullable().optional(),
    mountFolder: SettingsSchema.shape.mountFolder.unwrap().nullable().optional(),
    fileManagerMenu: SettingsSchema.shape.fileManagerMenu.unwrap().optional(),
  })
  .strict() satisfies z.ZodType<{ [K in keyof Settings]?: Settings[K] | null }>;
/** A partial settings change. */
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;
/** Fails to compile when a setting is added without a patch field. */
const _patchCoversSettings: Exclude<keyof Settings, keyof SettingsPatch> extends never ? true : never = true;
void _patchCoversSettings;

/** Something the user must be told about (e.g. a corrupt mounts.json was moved aside). */
export interface Notice {
  id: string;
  /** ISO 8601. */
  time: string;
  level: 'info' | 'warning' | 'error';
  message: string;
}

/** POST /v1/mounts: add a mount, and mount it unless `mount` is false. */
export const AddMountRequestSchema = z
  .object({
    spec: MountInputSchema,
    /** Mount right away and answer once mounted or failed (default true). */
    mount: z.boolean().default(true),
  })
  .strict();
/** Body of POST /v1/mounts. */
export type AddMountRequest = z.input<typeof AddMountRequestSchema>;

/** PUT /v1/mounts/:id: replace a spec; a mounted mount is remounted with it. */
export const UpdateMountRequestSchema = z.object({ spec: MountInputSchema }).strict();
/** Body of PUT /v1/mounts/:id. */
export type UpdateMountRequest = z.input<typeof UpdateMountRequestSchema>;

/** POST /v1/mounts/:id/unmount, POST /v1/unmount-all, POST /v1/shutdown. */
export const UnmountRequestSchema = z.object({ level: ShutdownLevelSchema.default('short') }).strict();
/** Body of the unmount and shutdown routes. */
export type UnmountRequest = z.input<typeof UnmountRequestSchema>;

/** POST /v1/resolve and /v1/link: a host path inside a mount. */
export const ResolveRequestSchema = z
  .object({
    path: z
      .string()
      .min(1, 'expected an absolute path inside a mount')
      .max(4096)
      .refine((p) => p.startsWith('/'), { message: 'expected an absolute path starting with "/"' })
      .refine((p) => !p.includes('\0'), { message: 'path contains a NUL byte' }),
  })
  .strict();
/** Body of POST /v1/resolve. */
export type ResolveRequest = z.input<typeof ResolveRequestSchema>;

/** POST /v1/link: like resolve, plus how to format the link. */
export const LinkRequestSchema = ResolveRequestSchema.extend({
  /** Override the settings' gateway. */
  gateway: SettingsSchema.shape.gateway.unwrap().optional(),
  /** Subdomain-gateway form instead of the path form. */
  subdomain: z.boolean().optional(),
}).strict();
/** Body of POST /v1/link. */
export type LinkRequest = z.input<typeof LinkRequestSchema>;

/** GET /v1/info. */
export interface InfoResponse {
  name: 'berth';
  version: string;
  pid: number;
  /** ISO 8601. */
  startedAt: string;
  socket: string;
  /** The loopback UI/API URL when `--ui` is on (without the token). */
  ui?: string;
  /** The folder new FUSE mounts go under by default (settings.mountFolder, else ~/Berth). */
  defaultMountFolder: string;
  /** Who serves this API: the headless daemon or the desktop app (which can write the clipboard). */
  servedBy: 'daemon' | 'app';
}
/** GET /v1/mounts, POST /v1/mount-all, POST /v1/unmount-all. */
export interface MountsResponse {
  mounts: MountStatus[];
}
/** GET/POST/PUT /v1/mounts/:id and its actions. */
export interface MountResponse {
  mount: MountStatus;
}
/** GET/PUT /v1/settings. */
export interface SettingsResponse {
  settings: Settings;
}
/** GET /v1/notices. */
export interface NoticesResponse {
  notices: Notice[];
}
/** POST /v1/resolve. */
export interface ResolveResponse {
  mountId: string;
  /** The path inside the mount ("/" is its root). */
  path: string;
  cid: string;
}
/** POST /v1/link. */
export interface LinkResponse extends ResolveResponse {
  link: string;
  /** The form actually used: a subdomain link falls back to a path link (see fallbackReason). */
  form: 'path' | 'subdomain' | 'native';
  fallbackReason?: string;
  /** The native form, ipfs://<cid>. */
  native: string;
}
/** Path inside a mount, as the guest sees it: "/" is the mount's root; no "..", "." or empty parts. */
export const GuestPathSchema = z
  .string()
  .max(4096)
  .refine((p) => p.startsWith('/'), { message: 'expected a path inside the mount starting with "/"' })
  .refine((p) => !p.includes('\0'), { message: 'path contains a NUL byte' })
  .refine((p) => p === '/' || p.slice(1).split('/').every((s) => s !== '' && s !== '.' && s !== '..'), {
    message: 'expected a clean path like /docs/a.txt (no "..", "." or empty parts)',
  });

/** POST /v1/mounts/:id/browse: one page of a folder inside a mount, read through the guest. */
export const BrowseRequestSchema = z
  .object({
    id: MountIdSchema,
    path: GuestPathSchema.default('/'),
    /** Entries to skip (paging through big folders). */
    offset: z.number().int().min(0).max(10_000_000).default(0),
    limit: z.number().int().min(1).max(5000).default(1000),
  })
  .strict();
/** Input of browse. */
export type BrowseRequest = z.input<typeof BrowseRequestSchema>;
/** One entry of a browsed folder. */
export interface BrowseEntry {
  name: string;
  /** Local folders can also hold fifos, sockets and device nodes. */
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block';
  size: number;
  /** ISO 8601. */
  mtime: string;
  /** The entry's CID, on guests that have them (IPFS, MFS). */
  cid?: string;
}
/** A page of a folder inside a mount. */
export interface BrowseResponse {
  mountId: string;
  path: string;
  entries: BrowseEntry[];
  /** The folder's own CID, on guests that have them. */
  cid?: string;
  /** True when more entries follow (ask again with offset + entries.length). */
  more: boolean;
}

/** POST /v1/mounts/:id/link: CID and share link of a path inside a mount (Copy CID / Copy gateway link). */
export const EntryLinkRequestSchema = z
  .object({
    id: MountIdSchema,
    path: GuestPathSchema.default('/'),
    /** Link form; absent = the settings' (path, or subdomain when subdomainLinks). */
    form: z.enum(['path', 'subdomain', 'native']).optional(),
    /** Override the settings' gateway. */
    gateway: SettingsSchema.shape.gateway.unwrap().optional(),
  })
  .strict();
/** Input of entryLink. */
export type EntryLinkRequest = z.input<typeof EntryLinkRequestSchema>;

/** POST /v1/clipboard: asks the desktop app to put text on the clipboard (`berth link --copy`). */
export const ClipboardRequestSchema = z.object({ text: z.string().min(1, 'expected some text to copy').max(65_536) }).strict();
/** Input of writeClipboard. */
export type ClipboardRequest = z.input<typeof ClipboardRequestSchema>;

/** POST /v1/add: import a local file or folder into the IPFS node and pin it (`berth add`, drop files to add). */
export const AddContentRequestSchema = z
  .object({
    path: z
      .string()
      .min(1, 'expected an absolute path of a file or folder')
      .max(4096)
      .refine((p) => p.startsWith('/'), { message: 'expected an absolute path starting with "/"' })
      .refine((p) => !p.includes('\0'), { message: 'path contains a NUL byte' }),
    /** Pin what was added (default true). */
    pin: z.boolean().default(true),
  })
  .strict();
/** Body of POST /v1/add. */
export type AddContentRequest = z.input<typeof AddContentRequestSchema>;

/** POST /v1/add: the CID of what was added, where, and its links. */
export interface AddContentResponse {
  cid: string;
  /** Base name of the file or folder. */
  name: string;
  /** File size in bytes (0 for a folder). */
  size: number;
  /** The node it went to: a Kubo multiaddr or "embedded". */
  node: string;
  pinned: boolean;
  /** Gateway link (settings' gateway and link form). */
  link: string;
  /** ipfs://<cid>. */
  native: string;
}

/** GET /v1/node: the IPFS node used by mounts without a node of their own. */
export interface NodeStatus {
  /** A multiaddr of a Kubo RPC API, or "embedded". */
  address: string;
  /** How it was chosen: the settings, a running Kubo found ($IPFS_PATH/api), the default address, or the embedded node. */
  source: 'settings' | 'discovered' | 'default' | 'embedded';
  reachable: boolean;
  /** What answered, e.g. "kubo/0.38.0" or "js-ipfs/0.18.1". */
  agent?: string;
  /** Why it is not reachable. */
  error?: ErrorInfo;
  /** ISO 8601. */
  checkedAt: string;
}

/** GET /v1/node. */
export interface NodeResponse {
  node: NodeStatus;
}

/** Every error response: `{error:{kind,message}}` with a matching HTTP status. */
export interface ErrorResponse {
  error: ErrorInfo;
}

/** The routes, for clients; the server registers exactly these. */
export const API_ROUTES = {
  info: { method: 'GET', path: '/v1/info' },
  listMounts: { method: 'GET', path: '/v1/mounts' },
  addMount: { method: 'POST', path: '/v1/mounts' },
  getMount: { method: 'GET', path: '/v1/mounts/:id' },
  updateMount: { method: 'PUT', path: '/v1/mounts/:id' },
  removeMount: { method: 'DELETE', path: '/v1/mounts/:id' },
  mount: { method: 'POST', path: '/v1/mounts/:id/mount' },
  unmount: { method: 'POST', path: '/v1/mounts/:id/unmount' },
  mountAll: { method: 'POST', path: '/v1/mount-all' },
  unmountAll: { method: 'POST', path: '/v1/unmount-all' },
  getSettings: { method: 'GET', path: '/v1/settings' },
  updateSettings: { method: 'PUT', path: '/v1/settings' },
  listNotices: { method: 'GET', path: '/v1/notices' },
  resolve: { method: 'POST', path: '/v1/resolve' },
  link: { method: 'POST', path: '/v1/link' },
  events: { method: 'GET', path: '/v1/events' },
  shutdown: { method: 'POST', path: '/v1/shutdown' },
  dismissNotice: { method: 'DELETE', path: '/v1/notices/:id' },
  browse: { method: 'POST', path: '/v1/mounts/:id/browse' },
  entryLink: { method: 'POST', path: '/v1/mounts/:id/link' },
  nodeStatus: { method: 'GET', path: '/v1/node' },
  addContent: { method: 'POST', path: '/v1/add' },
  writeClipboard: { method: 'POST', path: '/v1/clipboard' },
} as const satisfies Record<string, { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string }>;
/** Name of one API route. */
export type ApiRouteName = keyof typeof API_ROUTES;

/**
 * Server-Sent Events on GET /v1/events: the `event:` field is the key, `data:` the JSON
 * value. A `snapshot` comes first, then one event per change.
 */
export interface ApiEvents {
  snapshot: { mounts: MountStatus[]; settings: Settings; notices: Notice[]; info: InfoResponse };
  mount: { mount: MountStatus };
  removed: { id: string };
  settings: { settings: Settings };
  notice: { notice: Notice };
  noticeDismissed: { id: string };
  /** The default IPFS node's status changed (reachable, agent). */
  node: { status: NodeStatus };
  shutdown: { level: ShutdownLevel };
}
/** Name of one event on the stream. */
export type ApiEventName = keyof ApiEvents;

/** The HTTP status for an error kind: the one table the API uses. */
export const ERROR_STATUS: Record<ErrorInfo['kind'], number> = {
  Usage: 400,
  InvalidItem: 400,
  NotFound: 404,
  NotExist: 404,
  Conflict: 409,
  Exist: 409,
  NotDir: 400,
  IsDir: 400,
  NotEmpty: 409,
  Permission: 403,
  NotPermitted: 403,
  ReadOnly: 403,
  InvalidOperation: 400,
  Recursion: 400,
  Closed: 409,
  Timeout: 504,
  IO: 502,
  NoSpace: 507,
  QuotaExceeded: 507,
  NameTooLong: 400,
  TooBig: 413,
  CrossDevice: 400,
  TooManyLinks: 409,
  NoAttribute: 404,
  NotUtf8: 400,
  Unavailable: 503,
  Internal: 500,
};
