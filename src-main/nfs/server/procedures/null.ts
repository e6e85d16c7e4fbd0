import type { NfsProcedure } from '../NfsContext.ts';

/** NULL, RFC 1813 §3.3.0: does nothing; clients ping with it. */
export const nullProc: NfsProcedure = async () => {};
