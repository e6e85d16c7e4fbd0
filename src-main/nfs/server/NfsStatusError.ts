import type { Nfsstat3 } from '../nfs3/constants.ts';

/** A failure that already carries its wire status (bad handle, stale handle, bad name...). */
export class NfsStatusError extends Error {
  override readonly name = 'NfsStatusError';
  constructor(
    readonly status: Nfsstat3,
    message: string,
  ) {
    super(message);
  }
}
