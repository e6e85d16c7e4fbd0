import type { GuestSpec } from '../../src-shared/mountSpec.ts';
import { FsError } from '../vfs/FsError.ts';
import type { Vfs } from '../vfs/types.ts';
import { openIpfsGuest } from './ipfs.ts';
import { openIpnsGuest } from './ipns.ts';
import { openKeyfsGuest } from './keyfs.ts';
import { openLocalGuest } from './local.ts';
import { openPinfsGuest } from './pinfs.ts';
import { openNfsGuest } from './nfs.ts';

/** What a guest needs from the app besides its own spec. */
export interface GuestContext {
  /** The app-wide IPFS node setting, used when a spec has no `node`. */
  defaultNode?: string;
}

/** Opens the guest a spec describes. Each case lives in its own file under guests/. */
export async function openGuest(spec: GuestSpec, ctx: GuestContext): Promise<Vfs> {
  switch (spec.kind) {
    case 'ipfs':
      return openIpfsGuest(spec, ctx.defaultNode);
    case 'ipns':
      return openIpnsGuest(spec, ctx.defaultNode);
    case 'pinfs':
      return openPinfsGuest(spec, ctx.defaultNode);
    case 'keyfs':
      return openKeyfsGuest(spec, ctx.defaultNode);
    case 'mfs':
      throw new FsError('InvalidOperation', `the ${spec.kind} guest is not built yet (${String(ctx.defaultNode ?? '')})`);
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
