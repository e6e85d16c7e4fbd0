import type { GuestSpec } from '../../src-shared/mountSpec.ts';
import type { NodeContext } from '../ipfs/discover.ts';
import { FsError } from '../vfs/FsError.ts';
import type { Vfs } from '../vfs/types.ts';
import { openIpfsGuest } from './ipfs.ts';
import { openIpnsGuest } from './ipns.ts';
import { openKeyfsGuest } from './keyfs.ts';
import { openLocalGuest } from './local.ts';
import { openMfsGuest } from './mfs.ts';
import { openPinfsGuest } from './pinfs.ts';
import { openNfsGuest } from './nfs.ts';

/** What a guest needs from the app besides its own spec: the node settings (discover.ts). */
export type GuestContext = NodeContext;

/** Opens the guest a spec describes. Each case lives in its own file under guests/. */
export async function openGuest(spec: GuestSpec, ctx: GuestContext): Promise<Vfs> {
  switch (spec.kind) {
    case 'ipfs':
      return openIpfsGuest(spec, ctx);
    case 'ipns':
      return openIpnsGuest(spec, ctx);
    case 'pinfs':
      return openPinfsGuest(spec, ctx);
    case 'keyfs':
      return openKeyfsGuest(spec, ctx);
    case 'mfs':
      return openMfsGuest(spec, ctx);
    case 'local':
      return openLocalGuest(spec);
    case 'nfs':
      return openNfsGuest(spec);
    default: {
      const never: never = spec;
      throw new FsError('InvalidItem', `unknown guest kind ${JSON.stringify((never as { kind: unknown }).kind)}`);
    }
  }
}
