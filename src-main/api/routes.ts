import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type {
  ApiRouteName,
  BrowseResponse,
  LinkResponse,
  NodeResponse,
  MountResponse,
  MountsResponse,
  NoticesResponse,
  ResolveResponse,
  SettingsResponse,
  ShutdownLevel,
} from '../../src-shared/api.ts';
import {
  AddMountRequestSchema,
  API_BODY_LIMIT,
  BrowseRequestSchema,
  AddContentRequestSchema,
  ClipboardRequestSchema,
  EntryLinkRequestSchema,
  LinkRequestSchema,
  ResolveRequestSchema,
  SettingsPatchSchema,
  UnmountRequestSchema,
  UpdateMountRequestSchema,
} from '../../src-shared/api.ts';
import { MountIdSchema } from '../../src-shared/mountSpec.ts';
import type { BerthService } from '../../src-shared/bridge.ts';
import type { MountTable } from '../service/MountTable.ts';
import { HttpError, readJson, sendJson } from './http.ts';
import { streamEvents } from './sse.ts';

/** What the handlers need. */
export interface RouteContext {
  /** The service every face calls (src-main/service/TableService.ts). */
  service: BerthService;
  /** The table, for the event stream. */
  table: MountTable;
  /** Called after the shutdown request was answered. */
  onShutdown: (level: ShutdownLevel) => void;
  /** Open SSE responses, so closing the server can end them. Owner: the ApiServer. */
  streams: Set<ServerResponse>;
}

/** A matched route: its name and the mount id in its path, if any. */
export interface MatchedRoute {
  name: ApiRouteName;
  id?: string;
}

const Empty = z.object({}).strict();

/** Matches method + path to a route; 404 for an unknown path, 405 for a wrong method. */
export function matchRoute(method: string, pathname: string): MatchedRoute {
  const parts = pathname.split('/');
  if (parts[0] !== '' || parts[1] !== 'v1') throw new HttpError(404, 'NotFound', `no such API path ${JSON.stringify(pathname.slice(0, 200))}; the API lives under /v1`);
  const rest = parts.slice(2);
  const allow = (methods: Partial<Record<string, ApiRouteName>>): MatchedRoute => {
    const name = methods[method];
    if (!name) throw new HttpError(405, 'Usage', `${method} is not allowed on ${pathname}; use ${Object.keys(methods).join(' or ')}`, { allow: Object.keys(methods).join(', ') });
    return { name };
  };
  const one = rest.length === 1 ? rest[0] : undefined;
  if (one === 'info') return allow({ GET: 'info' });
  if (one === 'mounts') return allow({ GET: 'listMounts', POST: 'addMount' });
  if (one === 'mount-all') return allow({ POST: 'mountAll' });
  if (one === 'unmount-all') return allow({ POST: 'unmountAll' });
  if (one === 'settings') return allow({ GET: 'getSettings', PUT: 'updateSettings' });
  if (one === 'notices') return allow({ GET: 'listNotices' });
  if (one === 'node') return allow({ GET: 'nodeStatus' });
  if (one === 'add') return allow({ POST: 'addContent' });
  if (one === 'clipboard') return allow({ POST: 'writeClipboard' });
  if (rest[0] === 'notices' && rest.length === 2) {
    const id = rest[1] ?? '';
    if (!/^n_[A-Za-z0-9]{1,64}$/.test(id)) throw new HttpError(400, 'Usage', `invalid notice id ${JSON.stringify(id.slice(0, 80))}: expected n_ followed by letters and digits`);
    return { ...allow({ DELETE: 'dismissNotice' }), id };
  }
  if (one === 'resolve') return allow({ POST: 'resolve' });
  if (one === 'link') return allow({ POST: 'link' });
  if (one === 'events') return allow({ GET: 'events' });
  if (one === 'shutdown') return allow({ POST: 'shutdown' });
  if (rest[0] === 'mounts' && (rest.length === 2 || rest.length === 3)) {
    let id: string;
    try {
      id = decodeURIComponent(rest[1] ?? '');
    } catch {
      throw new HttpError(400, 'Usage', 'the mount id in the path is not valid percent-encoding');
    }
    const ok = MountIdSchema.safeParse(id);
    if (!ok.success) throw new HttpError(400, 'Usage', `invalid mount id ${JSON.stringify(id.slice(0, 80))}: expected 1-64 letters, digits, "_" or "-"`);
    const m =
      rest.length === 2
        ? allow({ GET: 'getMount', PUT: 'updateMount', DELETE: 'removeMount' })
        : rest[2] === 'mount'
          ? allow({ POST: 'mount' })
          : rest[2] === 'unmount'
            ? allow({ POST: 'unmount' })
            : rest[2] === 'browse'
              ? allow({ POST: 'browse' })
              : rest[2] === 'link'
                ? allow({ POST: 'entryLink' })
                : undefined;
    if (!m) throw new HttpError(404, 'NotFound', `no such API path ${JSON.stringify(pathname.slice(0, 200))}`);
    return { ...m, id };
  }
  throw new HttpError(404, 'NotFound', `no such API path ${JSON.stringify(pathname.slice(0, 200))}`);
}

/** Runs one matched route through the service. Throws for errors; the server turns them into JSON. */
export async function handleRoute(ctx: RouteContext, route: MatchedRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const svc = ctx.service;
  const id = route.id ?? '';
  const body = <S extends z.ZodType>(schema: S) => readJson(req, schema, API_BODY_LIMIT);
  switch (route.name) {
    case 'info':
      return sendJson(res, 200, await svc.info());
    case 'listMounts':
      return sendJson(res, 200, { mounts: await svc.listMounts() } satisfies MountsResponse);
    case 'addMount': {
      const r = await body(AddMountRequestSchema);
      return sendJson(res, 201, { mount: await svc.addMount(r) } satisfies MountResponse);
    }
    case 'getMount':
      return sendJson(res, 200, { mount: ctx.table.get(id) } satisfies MountResponse);
    case 'updateMount': {
      const r = await body(UpdateMountRequestSchema);
      return sendJson(res, 200, { mount: await svc.updateMount({ id, spec: r.spec }) } satisfies MountResponse);
    }
    case 'removeMount': {
      const r = await body(UnmountRequestSchema);
      await svc.removeMount({ id, level: r.level });
      return sendJson(res, 200, { ok: true });
    }
    case 'mount':
      await body(Empty);
      return sendJson(res, 200, { mount: await svc.mount({ id }) } satisfies MountResponse);
    case 'unmount': {
      const r = await body(UnmountRequestSchema);
      return sendJson(res, 200, { mount: await svc.unmount({ id, level: r.level }) } satisfies MountResponse);
    }
    case 'mountAll':
      await body(Empty);
      return sendJson(res, 200, { mounts: await svc.mountAll() } satisfies MountsResponse);
    case 'unmountAll': {
      const r = await body(UnmountRequestSchema);
      return sendJson(res, 200, { mounts: await svc.unmountAll(r) } satisfies MountsResponse);
    }
    case 'getSettings':
      return sendJson(res, 200, { settings: await svc.getSettings() } satisfies SettingsResponse);
    case 'updateSettings': {
      const r = await body(SettingsPatchSchema);
      return sendJson(res, 200, { settings: await svc.updateSettings(r) } satisfies SettingsResponse);
    }
    case 'listNotices':
      return sendJson(res, 200, { notices: await svc.listNotices() } satisfies NoticesResponse);
    case 'dismissNotice':
      await body(Empty);
      await svc.dismissNotice({ id });
      return sendJson(res, 200, { ok: true });
    case 'resolve':
      return sendJson(res, 200, (await svc.resolve(await body(ResolveRequestSchema))) satisfies ResolveResponse);
    case 'link':
      return sendJson(res, 200, (await svc.link(await body(LinkRequestSchema))) satisfies LinkResponse);
    case 'browse': {
      const r = await body(BrowseRequestSchema.omit({ id: true }).strict());
      return sendJson(res, 200, (await svc.browse({ ...r, id })) satisfies BrowseResponse);
    }
    case 'entryLink': {
      const r = await body(EntryLinkRequestSchema.omit({ id: true }).strict());
      return sendJson(res, 200, (await svc.entryLink({ ...r, id })) satisfies LinkResponse);
    }
    case 'nodeStatus':
      return sendJson(res, 200, { node: await svc.nodeStatus() } satisfies NodeResponse);
    case 'addContent':
      return sendJson(res, 200, await svc.addContent(await body(AddContentRequestSchema)));
    case 'writeClipboard':
      await svc.writeClipboard(await body(ClipboardRequestSchema));
      return sendJson(res, 200, { ok: true });
    case 'events':
      return streamEvents(ctx.table, await svc.info(), req, res, ctx.streams);
    case 'shutdown': {
      const r = await body(UnmountRequestSchema);
      sendJson(res, 202, { ok: true, level: r.level });
      res.once('finish', () => ctx.onShutdown(r.level));
      return;
    }
    default: {
      const never: never = route.name;
      throw new HttpError(404, 'NotFound', `unknown route ${String(never)}`);
    }
  }
}
