/** Every way a file-system call can fail, as the UI and every host see it. */
export const FS_ERROR_KINDS = [
  'NotExist',
  'Exist',
  'NotDir',
  'IsDir',
  'NotEmpty',
  'Permission',
  'ReadOnly',
  'InvalidItem',
  'InvalidOperation',
  'Recursion',
  'Closed',
  'IO',
  'Timeout',
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
