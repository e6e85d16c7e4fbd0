import type { InfoResponse, Settings } from '../../../src-shared/api.ts';
import type { MountStatus } from '../../../src-shared/mountState.ts';

// Plain data for the renderer's unit tests: mounts and a snapshot as the service sends them.

/** A CID of the site the README's example mounts. */
export const CID = 'bafybeihnqohtjaxafnn54bqe7bztaibdprkl6gzdcccv4t6ela2qosqg7i';

/** A mount row as the service reports it. */
export function mount(id: string, over: Partial<MountStatus> = {}): MountStatus {
  return {
    id,
    spec: { id, name: id, host: { kind: 'fuse', mountpoint: `/home/ana/Berth/${id}`, readOnly: true, allowOther: false, options: [] }, guest: { kind: 'ipfs', root: `/ipfs/${CID}` }, autoMount: true },
    state: 'mounted',
    since: '2026-11-30T10:00:00.000Z',
    ...over,
  };
}

/** Settings with their defaults. */
export const SETTINGS: Settings = { gateway: 'http://127.0.0.1:8080', subdomainLinks: false, fileManagerMenu: false };

/** The service's identity. */
export const INFO: InfoResponse = {
  name: 'berth',
  version: '0.1.0',
  pid: 42,
  startedAt: '2026-11-30T09:00:00.000Z',
  socket: '/run/user/1000/berth/api.sock',
  defaultMountFolder: '/home/ana/Berth',
  servedBy: 'daemon',
};
