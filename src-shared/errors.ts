/** Every way a file-system call can fail, as the UI and every host see it. */
export const FS_ERROR_KINDS = [
  'NotExist',
  'Exist',
  'NotDir',
  'IsDir',
  'NotEmpty',
  'Permission',
  /** The caller's rights are not enough whatever the modes say (EPERM: chown by a non-owner, link to a folder). */
  'NotPermitted',
  'ReadOnly',
  'InvalidItem',
  'InvalidOperation',
  'Recursion',
  'Closed',
  'IO',
  'Timeout',
  /** No room left on the device the guest writes to (ENOSPC). */
  'NoSpace',
  /** The user's quota is used up (EDQUOT). */
  'QuotaExceeded',
  /** A name or path is longer than the guest allows (ENAMETOOLONG). */
  'NameTooLong',
  /** A file would grow past the guest's largest size (EFBIG). */
  'TooBig',
  /** A rename or link across devices (EXDEV): the caller may copy instead. */
  'CrossDevice',
  /** A node has as many hard links as it may (EMLINK). */
  'TooManyLinks',
  /** A node has no extended attribute of that name (ENODATA). */
  'NoAttribute',
  /** A name whose bytes are not UTF-8 where the guest keeps names as text: IPFS, MFS (EILSEQ). */
  'NotUtf8',
] as const;

/** A neutral error kind; each host translates it once, in one exhaustive table. */
export type FsErrorKind = (typeof FS_ERROR_KINDS)[number];

/** True when `s` names an FsErrorKind. */
export function isFsErrorKind(s: unknown): s is FsErrorKind {
  return typeof s === 'string' && (FS_ERROR_KINDS as readonly string[]).includes(s);
}

/** An error as it crosses a boundary (API, IPC, mounts.json): plain data, no stack. */
export interface ErrorInfo {
  kind: FsErrorKind | 'Usage' | 'Conflict' | 'NotFound' | 'Unavailable' | 'Internal';
  message: string;
  errno?: string;
  hint?: string;
}
