// Numbers fixed by RFC 1813 (NFS version 3, and MOUNT version 3 in its Appendix I).

/** NFS program number, RFC 1813 §1. */
export const NFS_PROGRAM = 100003;
/** NFS version served. */
export const NFS_V3 = 3;
/** MOUNT program number, RFC 1813 Appendix I. */
export const MOUNT_PROGRAM = 100005;
/** MOUNT version served. */
export const MOUNT_V3 = 3;

/** NFSv3 procedure numbers, RFC 1813 §3.3. */
export const NfsProc = {
  NULL: 0,
  GETATTR: 1,
  SETATTR: 2,
  LOOKUP: 3,
  ACCESS: 4,
  READLINK: 5,
  READ: 6,
  WRITE: 7,
  CREATE: 8,
  MKDIR: 9,
  SYMLINK: 10,
  MKNOD: 11,
  REMOVE: 12,
  RMDIR: 13,
  RENAME: 14,
  LINK: 15,
  READDIR: 16,
  READDIRPLUS: 17,
  FSSTAT: 18,
  FSINFO: 19,
  PATHCONF: 20,
  COMMIT: 21,
} as const;

/** MOUNT v3 procedure numbers, RFC 1813 Appendix I §5.2. */
export const MountProc = { NULL: 0, MNT: 1, DUMP: 2, UMNT: 3, UMNTALL: 4, EXPORT: 5 } as const;

/** nfsstat3, RFC 1813 §2.6. */
export const Nfsstat3 = {
  OK: 0,
  PERM: 1,
  NOENT: 2,
  IO: 5,
  NXIO: 6,
  ACCES: 13,
  EXIST: 17,
  XDEV: 18,
  NODEV: 19,
  NOTDIR: 20,
  ISDIR: 21,
  INVAL: 22,
  FBIG: 27,
  NOSPC: 28,
  ROFS: 30,
  MLINK: 31,
  NAMETOOLONG: 63,
  NOTEMPTY: 66,
  DQUOT: 69,
  STALE: 70,
  REMOTE: 71,
  BADHANDLE: 10001,
  NOT_SYNC: 10002,
  BAD_COOKIE: 10003,
  NOTSUPP: 10004,
  TOOSMALL: 10005,
  SERVERFAULT: 10006,
  BADTYPE: 10007,
  JUKEBOX: 10008,
} as const;
/** One nfsstat3 value. */
export type Nfsstat3 = (typeof Nfsstat3)[keyof typeof Nfsstat3];

/** mountstat3, RFC 1813 Appendix I §5.1.5. */
export const Mountstat3 = {
  OK: 0,
  PERM: 1,
  NOENT: 2,
  IO: 5,
  ACCES: 13,
  NOTDIR: 20,
  INVAL: 22,
  NAMETOOLONG: 63,
  NOTSUPP: 10004,
  SERVERFAULT: 10006,
} as const;

/** ftype3, RFC 1813 §2.6. */
export const Ftype3 = { REG: 1, DIR: 2, BLK: 3, CHR: 4, LNK: 5, SOCK: 6, FIFO: 7 } as const;

/** ACCESS bits, RFC 1813 §3.3.4. */
export const Access3 = { READ: 0x1, LOOKUP: 0x2, MODIFY: 0x4, EXTEND: 0x8, DELETE: 0x10, EXECUTE: 0x20 } as const;

/** stable_how, RFC 1813 §3.3.7. */
export const StableHow = { UNSTABLE: 0, DATA_SYNC: 1, FILE_SYNC: 2 } as const;

/** createmode3, RFC 1813 §3.3.8. */
export const CreateMode = { UNCHECKED: 0, GUARDED: 1, EXCLUSIVE: 2 } as const;

/** time_how, RFC 1813 §2.6 (set_atime / set_mtime). */
export const TimeHow = { DONT_CHANGE: 0, SET_TO_SERVER_TIME: 1, SET_TO_CLIENT_TIME: 2 } as const;

/** FSINFO properties bits, RFC 1813 §3.3.19. */
export const FsfProps = { LINK: 0x1, SYMLINK: 0x2, HOMOGENEOUS: 0x8, CANSETTIME: 0x10 } as const;

/** NFS3_FHSIZE, RFC 1813 §2.4: the largest file handle. */
export const FHSIZE3 = 64;
/** Bound on file names we accept (filename3 has none in the RFC; NAME_MAX is the honest limit). */
export const NAME_MAX = 255;
/** Bound on paths (nfspath3, dirpath); MNTPATHLEN is 1024 (Appendix I). */
export const PATH_MAX = 4096;
/** Verifier sizes, RFC 1813 §2.5: cookieverf3, createverf3, writeverf3. */
export const VERF_SIZE = 8;
