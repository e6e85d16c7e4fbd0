import { FsError } from '../../vfs/FsError.ts';
import type { Nfsstat3 } from '../nfs3/constants.ts';
import { NFSSTAT_KIND } from './nfsstatKinds.ts';

/** A procedure the server ran and answered with an error status. */
export class NfsCallError extends FsError {
  constructor(
    readonly status: Nfsstat3,
    what: string,
  ) {
    super(NFSSTAT_KIND[status as Exclude<Nfsstat3, 0>] ?? 'IO', `${what}: NFS3 status ${status}`);
  }
}
