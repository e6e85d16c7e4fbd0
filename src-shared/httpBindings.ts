import type {
  AddContentResponse,
  InfoResponse,
  LinkResponse,
  MountResponse,
  MountsResponse,
  NodeStatus,
  NoticesResponse,
  ResolveResponse,
  SettingsResponse,
} from './api.ts';
import type { BrowseResponse } from './api.ts';
import type { ChannelInput, SERVICE_CHANNELS, ServiceChannel, ServiceOutputs } from './bridge.ts';

// How each service channel travels over the control API: method, path, body, and how the
// answer unwraps. The CLI's client (Node, unix socket) and the browser bridge (fetch with
// the token) both call the API through this one table, so they cannot drift apart; the
// server's routes (src-main/api/routes.ts) answer exactly these.

/** One channel's HTTP form. */
export interface HttpBinding<K extends ServiceChannel> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The path for this input (ids percent-encoded). */
  path: (input: ChannelInput<(typeof SERVICE_CHANNELS)[K]>) => string;
  /** The JSON body, when the route takes one. */
  body?: (input: ChannelInput<(typeof SERVICE_CHANNELS)[K]>) => unknown;
  /** The channel's value from the route's JSON answer. */
  result: (json: unknown) => ServiceOutputs[K];
}

const enc = encodeURIComponent;
/** Drops the id from an input: it travels in the path. */
function withoutId<T extends { id: string }>(input: T): Omit<T, 'id'> {
  const { id: _id, ...rest } = input;
  return rest;
}

/** Every service channel's HTTP form. */
export const HTTP_BINDINGS: { [K in ServiceChannel]: HttpBinding<K> } = {
  info: { method: 'GET', path: () => '/v1/info', result: (j) => j as InfoResponse },
  listMounts: { method: 'GET', path: () => '/v1/mounts', result: (j) => (j as MountsResponse).mounts },
  addMount: { method: 'POST', path: () => '/v1/mounts', body: (i) => i, result: (j) => (j as MountResponse).mount },
  updateMount: { method: 'PUT', path: (i) => `/v1/mounts/${enc(i.id)}`, body: (i) => ({ spec: i.spec }), result: (j) => (j as MountResponse).mount },
  removeMount: { method: 'DELETE', path: (i) => `/v1/mounts/${enc(i.id)}`, body: (i) => withoutId(i), result: () => undefined },
  mount: { method: 'POST', path: (i) => `/v1/mounts/${enc(i.id)}/mount`, result: (j) => (j as MountResponse).mount },
  unmount: { method: 'POST', path: (i) => `/v1/mounts/${enc(i.id)}/unmount`, body: (i) => withoutId(i), result: (j) => (j as MountResponse).mount },
  mountAll: { method: 'POST', path: () => '/v1/mount-all', result: (j) => (j as MountsResponse).mounts },
  unmountAll: { method: 'POST', path: () => '/v1/unmount-all', body: (i) => i ?? {}, result: (j) => (j as MountsResponse).mounts },
  getSettings: { method: 'GET', path: () => '/v1/settings', result: (j) => (j as SettingsResponse).settings },
  updateSettings: { method: 'PUT', path: () => '/v1/settings', body: (i) => i, result: (j) => (j as SettingsResponse).settings },
  listNotices: { method: 'GET', path: () => '/v1/notices', result: (j) => (j as NoticesResponse).notices },
  dismissNotice: { method: 'DELETE', path: (i) => `/v1/notices/${enc(i.id)}`, result: () => undefined },
  resolve: { method: 'POST', path: () => '/v1/resolve', body: (i) => i, result: (j) => j as ResolveResponse },
  link: { method: 'POST', path: () => '/v1/link', body: (i) => i, result: (j) => j as LinkResponse },
  browse: { method: 'POST', path: (i) => `/v1/mounts/${enc(i.id)}/browse`, body: (i) => withoutId(i), result: (j) => j as BrowseResponse },
  entryLink: { method: 'POST', path: (i) => `/v1/mounts/${enc(i.id)}/link`, body: (i) => withoutId(i), result: (j) => j as LinkResponse },
  nodeStatus: { method: 'GET', path: () => '/v1/node', result: (j) => (j as { node: NodeStatus }).node },
  writeClipboard: { method: 'POST', path: () => '/v1/clipboard', body: (i) => i, result: () => undefined },
  addContent: { method: 'POST', path: () => '/v1/add', body: (i) => i, result: (j) => j as AddContentResponse },
};
