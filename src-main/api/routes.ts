import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import { z } from 'zod';
import type {
  ApiRouteName,
  InfoResponse,
  LinkResponse,
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
  LinkRequestSchema,
  ResolveRequestSchema,
  SettingsPatchSchema,
  UnmountRequestSchema,
  UpdateMountRequestSchema,
} from '../../src-shared/api.ts';
import { MountIdSchema } from '../../src-shared/mountSpec.ts';
import { buildShareLink, DEFAULT_GATEWAYS } from '../../src-shared/shareLink.ts';
import type { MountTable } from '../service/MountTable.ts';
import { ServiceError } from '../service/errorInfo.ts';
import { HttpError, readJson, sendJson } from './http.ts';
import { streamEvents } from './sse.ts';

/** What the handlers need besides the table. */
export interface RouteContext {
  table: MountTable;
  info: () => InfoResponse;
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
  if (one === 'notices') return allow({ GET: 'notices' });
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
            : undefined;
    if (!m) throw new HttpError(404, 'NotFound', `no such API path ${JSON.stringify(pathname.slice(0, 200))}`);
    return { ...m, id };
  }
  throw new HttpError(404, 'NotFound', `no such API path ${JSON.stringify(pathname.slice(0, 200))}`);
}

/** Runs one matched route. Throws for errors; the server turns them into JSON. */
export async function handleRoute(ctx: RouteContext, route: MatchedRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { table } = ctx;
  const id = route.id ?? '';
  const body = <S extends z.ZodType>(schema: S) => readJson(req, schema, API_BODY_LIMIT);
  switch (route.name) {
    case 'info':
      return sendJson(res, 200, ctx.info());
    case 'listMounts':
      return sendJson(res, 200, { mounts: table.list() } satisfies MountsResponse);
    case 'addMount': {
      const r = await body(AddMountRequestSchema);
      const mount = await table.add(r.spec, { mount: r.mount });
      return sendJson(res, 201, { mount } satisfies MountResponse);
    }
    case 'getMount':
      return sendJson(res, 200, { mount: table.get(id) } satisfies MountResponse);
    case 'updateMount': {
      const r = await body(UpdateMountRequestSchema);
      return sendJson(res, 200, { mount: await table.update(id, r.spec) } satisfies MountResponse);
    }
    case 'removeMount': {
      const r = await body(UnmountRequestSchema);
      await table.remove(id, r.level);
      return sendJson(res, 200, { ok: true });
    }
    case 'mount':
      await body(Empty);
      return sendJson(res, 200, { mount: await table.mount(id) } satisfies MountResponse);
    case 'unmount': {
      const r = await body(UnmountRequestSchema);
      return sendJson(res, 200, { mount: await table.unmount(id, r.level) } satisfies MountResponse);
    }
    case 'mountAll':
      await body(Empty);
      return sendJson(res, 200, { mounts: await table.mountAll() } satisfies MountsResponse);
    case 'unmountAll': {
      const r = await body(UnmountRequestSchema);
      return sendJson(res, 200, { mounts: await table.unmountAll(r.level) } satisfies MountsResponse);
    }
    case 'getSettings':
      return sendJson(res, 200, { settings: table.settings() } satisfies SettingsResponse);
    case 'updateSettings': {
      const r = await body(SettingsPatchSchema);
      return sendJson(res, 200, { settings: await table.updateSettings(r) } satisfies SettingsResponse);
    }
    case 'notices':
      return sendJson(res, 200, { notices: table.notices() } satisfies NoticesResponse);
    case 'resolve': {
      const r = await body(ResolveRequestSchema);
      return sendJson(res, 200, (await table.resolveCid(r.path)) satisfies ResolveResponse);
    }
    case 'link': {
      const r = await body(LinkRequestSchema);
      const found = await table.resolveCid(r.path);
      const settings = table.settings();
      const subdomain = r.subdomain ?? settings.subdomainLinks;
      // The local gateway by IP cannot take subdomains; its localhost name can.
      const gateway = r.gateway ?? (subdomain && settings.gateway === DEFAULT_GATEWAYS.local.path ? DEFAULT_GATEWAYS.local.subdomain : settings.gateway);
      const filename = found.path === '/' ? undefined : await fileName(table, r.path, found.path);
      let link;
      try {
        link = buildShareLink(found.cid, { form: subdomain ? 'subdomain' : 'path', gateway, ...(filename ? { filename } : {}) });
      } catch (err) {
        throw new ServiceError('Usage', (err as Error).message);
      }
      const native = buildShareLink(found.cid, { form: 'native' }).url;
      return sendJson(res, 200, {
        ...found,
        link: link.url,
        form: link.form,
        ...(link.fallbackReason ? { fallbackReason: link.fallbackReason } : {}),
        native,
      } satisfies LinkResponse);
    }
    case 'events':
      return streamEvents(table, req, res, ctx.streams);
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

/** `?filename=` for files only: a browser saving a folder listing under a file name helps no one. */
async function fileName(table: MountTable, hostPath: string, inside: string): Promise<string | undefined> {
  try {
    const where = table.locate(hostPath);
    const attr = await where.vfs.getattr(inside, { signal: AbortSignal.timeout(10_000) });
    return attr.type === 'file' ? basename(inside) : undefined;
  } catch {
    return undefined;
  }
}
