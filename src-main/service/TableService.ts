import pMap from 'p-map';
import { basename } from 'node:path';
import type { BrowseEntry, BrowseResponse, InfoResponse, LinkResponse, NodeStatus, Settings } from '../../src-shared/api.ts';
import { BrowseRequestSchema, EntryLinkRequestSchema, LinkRequestSchema, ResolveRequestSchema } from '../../src-shared/api.ts';
import type { BerthService } from '../../src-shared/bridge.ts';
import { SERVICE_CHANNELS } from '../../src-shared/bridge.ts';
import { parseContentPath } from '../../src-shared/contentPath.ts';
import type { MountSpec } from '../../src-shared/mountSpec.ts';
import { buildShareLink, DEFAULT_GATEWAYS, ShareLinkError, type ShareLinkForm } from '../../src-shared/shareLink.ts';
import { canonicalCid } from '../ipfs/canonicalCid.ts';
import { checkNodeStatus } from '../ipfs/nodeStatus.ts';
import { addContent } from './addContent.ts';
import type { Vfs } from '../vfs/types.ts';
import { ServiceError } from './errorInfo.ts';
import { installFileManagerMenu, removeFileManagerMenu } from './fileManagerMenu.ts';
import type { MountTable } from './MountTable.ts';
import { defaultMountFolder } from './mountFolder.ts';

// The service channels of the bridge (src-shared/bridge.ts) answered in process, over
// one MountTable. The control API's routes and the Electron IPC handlers both call this
// object, so every face runs the same code for the same action. Inputs are parsed here
// with the channel's schema too: a caller that skipped validation still cannot get past it.

/** What the service needs besides the table. */
export interface TableServiceOptions {
  /** Identity of whoever serves the API (pid, socket, UI address). */
  info: () => Omit<InfoResponse, 'defaultMountFolder'>;
  /** Writes the desktop clipboard; absent in the headless daemon. */
  clipboard?: (text: string) => void | Promise<void>;
  /** Checks the default IPFS node (replaceable for tests). */
  nodeStatus?: (settings: Settings) => Promise<NodeStatus>;
  /** The `berth` CLI as argv words, for the file manager's "Copy CID" scripts (default: `berth` on PATH). */
  cliCommand?: readonly string[];
  /** Environment for paths such as $XDG_DATA_HOME (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/** How long one browse or link call may take through the guest. */
const CALL_TIMEOUT_MS = 30_000;
/** CIDs looked up at once while listing a folder. */
const CID_CONCURRENCY = 16;


async function cidOf(vfs: Vfs, path: string, signal: AbortSignal): Promise<string | undefined> {
  const v = await vfs.getxattr(path, 'user.ipfs.cid', { signal });
  return v && v.length > 0 ? new TextDecoder().decode(v).trim() : undefined;
}

/** A display name for a mount in messages. */
function nameOf(spec: MountSpec): string {
  return spec.name ? `"${spec.name}"` : `mount ${spec.id}`;
}

/** Creates the in-process BerthService over a table. */
export function createTableService(table: MountTable, opts: TableServiceOptions): BerthService {
  const parse = <K extends keyof typeof SERVICE_CHANNELS>(name: K, input: unknown) => SERVICE_CHANNELS[name].parse(input) as import('zod').infer<(typeof SERVICE_CHANNELS)[K]>;

  /** Formats a CID as a share link with the settings' gateway and form, unless overridden. */
  const makeLink = (cid: string, o: { form?: ShareLinkForm; subdomain?: boolean; gateway?: string; filename?: string }): { link: string; form: LinkResponse['form']; fallbackReason?: string; native: string } => {
    const settings = table.settings();
    const form: ShareLinkForm = o.form ?? ((o.subdomain ?? settings.subdomainLinks) ? 'subdomain' : 'path');
    // The local gateway by IP cannot take subdomains; its localhost name can.
    const gateway = o.gateway ?? (form === 'subdomain' && settings.gateway === DEFAULT_GATEWAYS.local.path ? DEFAULT_GATEWAYS.local.subdomain : settings.gateway);
    let link;
    try {
      link = buildShareLink(cid, { form, gateway, ...(o.filename ? { filename: o.filename } : {}) });
    } catch (err) {
      if (err instanceof ShareLinkError) throw new ServiceError('Usage', err.message);
      throw err;
    }
    return {
      link: link.url,
      form: link.form,
      ...(link.fallbackReason ? { fallbackReason: link.fallbackReason } : {}),
      native: buildShareLink(cid, { form: 'native' }).url,
    };
  };

  /** `?filename=` for files only: a browser saving a folder listing under a file name helps no one. */
  const fileName = async (vfs: Vfs, inside: string, cid: string, signal: AbortSignal): Promise<string | undefined> => {
    // A file named by its own CID (the /ipfs namespace root) gains nothing from ?filename=.
    if (inside === '/' || basename(inside) === cid) return undefined;
    try {
      return (await vfs.getattr(inside, { signal })).type === 'file' ? basename(inside) : undefined;
    } catch {
      return undefined;
    }
  };

  const service: BerthService = {
    async info() {
      return { ...opts.info(), defaultMountFolder: defaultMountFolder(table.settings()) };
    },
    async listMounts() {
      return table.list();
    },
    async addMount(input) {
      const r = parse('addMount', input);
      return table.add(r.spec, { mount: r.mount });
    },
    async updateMount(input) {
      const r = parse('updateMount', input);
      return table.update(r.id, r.spec);
    },
    async removeMount(input) {
      const r = parse('removeMount', input);
      await table.remove(r.id, r.level);
    },
    async mount(input) {
      return table.mount(parse('mount', input).id);
    },
    async unmount(input) {
      const r = parse('unmount', input);
      return table.unmount(r.id, r.level);
    },
    async mountAll() {
      return table.mountAll();
    },
    async unmountAll(input) {
      return table.unmountAll(parse('unmountAll', input)?.level ?? 'short');
    },
    async getSettings() {
      return table.settings();
    },
    async updateSettings(input) {
      const patch = parse('updateSettings', input);
      if (patch.fileManagerMenu !== undefined && patch.fileManagerMenu !== table.settings().fileManagerMenu) {
        // Files first: a setting that says "on" while the files could not be written would lie.
        try {
          if (patch.fileManagerMenu) await installFileManagerMenu(opts.cliCommand ?? ['berth'], opts.env);
          else await removeFileManagerMenu(opts.env);
        } catch (err) {
          throw new ServiceError('IO', `could not ${patch.fileManagerMenu ? 'add' : 'remove'} the file manager menu: ${(err as Error).message}`);
        }
      }
      return table.updateSettings(patch);
    },
    async listNotices() {
      return table.notices();
    },
    async dismissNotice(input) {
      table.dismissNotice(parse('dismissNotice', input).id);
    },
    async resolve(input) {
      return table.resolveCid(ResolveRequestSchema.parse(input).path);
    },
    async link(input) {
      const r = LinkRequestSchema.parse(input);
      const found = await table.resolveCid(r.path);
      const where = table.locate(r.path);
      const filename = await fileName(where.vfs, found.path, found.cid, AbortSignal.timeout(CALL_TIMEOUT_MS));
      return { ...found, ...makeLink(found.cid, { ...(r.subdomain !== undefined ? { subdomain: r.subdomain } : {}), ...(r.gateway ? { gateway: r.gateway } : {}), ...(filename ? { filename } : {}) }) };
    },
    async browse(input): Promise<BrowseResponse> {
      const r = BrowseRequestSchema.parse(input);
      const { spec, vfs } = table.liveVfs(r.id);
      if (!vfs) throw new ServiceError('Unavailable', `${nameOf(spec)} is not mounted`, 'mount it to browse its files');
      const signal = AbortSignal.timeout(CALL_TIMEOUT_MS);
      const attr = await vfs.getattr(r.path, { signal });
      if (attr.type !== 'dir') throw new ServiceError('NotDir', `${r.path} in ${nameOf(spec)} is not a folder`);
      const raw: { name: string; attr: typeof attr }[] = [];
      let index = 0;
      let more = false;
      for await (const e of vfs.readdir(r.path, { signal })) {
        if (index++ < r.offset) continue;
        if (raw.length >= r.limit) {
          more = true;
          break;
        }
        raw.push(e);
      }
      const folderCid = await cidOf(vfs, r.path, signal).catch(() => undefined);
      // Fifos, sockets and devices (local guests) browse as files: the UI knows three kinds.
      const entries: BrowseEntry[] = raw.map((e) => ({ name: e.name, type: e.attr.type === 'dir' || e.attr.type === 'symlink' ? e.attr.type : 'file', size: e.attr.size, mtime: new Date(e.attr.mtime).toISOString() }));
      if (folderCid) {
        const base = r.path === '/' ? '' : r.path;
        await pMap(
          raw.entries(),
          async ([i, e]) => {
            const cid = await cidOf(vfs, `${base}/${e.name}`, signal).catch(() => undefined);
            if (cid) entries[i]!.cid = cid;
          },
          { concurrency: CID_CONCURRENCY },
        );
      }
      return { mountId: spec.id, path: r.path, entries, more, ...(folderCid ? { cid: folderCid } : {}) };
    },
    async entryLink(input) {
      const r = EntryLinkRequestSchema.parse(input);
      const { spec, vfs } = table.liveVfs(r.id);
      const signal = AbortSignal.timeout(CALL_TIMEOUT_MS);
      let cid: string | undefined;
      let filename: string | undefined;
      if (vfs) {
        cid = await cidOf(vfs, r.path, signal);
        if (!cid) throw new ServiceError('NotFound', `${r.path} in ${nameOf(spec)} has no CID: ${spec.guest.kind} mounts do not give content IDs`);
        filename = await fileName(vfs, r.path, cid, signal);
      } else if (spec.guest.kind === 'ipfs' && spec.guest.root && r.path === '/') {
        // The root of an unmounted IPFS mount is known without the node when it is a bare CID.
        const cp = parseContentPath(spec.guest.root);
        if (cp.namespace === 'ipfs' && cp.path.length === 0) cid = canonicalCid(cp.cid.toString());
      }
      if (!cid) {
        const hasCids = spec.guest.kind !== 'nfs' && spec.guest.kind !== 'local';
        throw hasCids
          ? new ServiceError('Unavailable', `${nameOf(spec)} is not mounted, so its CIDs cannot be looked up`, 'mount it first')
          : new ServiceError('NotFound', `${spec.guest.kind === 'nfs' ? 'NFS shares' : 'local folders'} have no CID`);
      }
      return { mountId: spec.id, path: r.path, cid, ...makeLink(cid, { ...(r.form ? { form: r.form } : {}), ...(r.gateway ? { gateway: r.gateway } : {}), ...(filename ? { filename } : {}) }) };
    },
    async addContent(input) {
      const r = parse('addContent', input);
      const added = await addContent(r.path, r.pin, table.settings());
      return { ...added, pinned: r.pin, ...makeLink(added.cid, added.dir ? {} : { filename: added.name }) };
    },
    async nodeStatus() {
      return (opts.nodeStatus ?? checkNodeStatus)(table.settings());
    },
    async writeClipboard(input) {
      const { text } = parse('writeClipboard', input);
      if (!opts.clipboard) {
        throw new ServiceError('Unavailable', 'the Berth desktop app is not running, so nothing can write the clipboard', 'start the Berth app, or copy the printed text yourself');
      }
      await opts.clipboard(text);
    },
  };
  return service;
}
