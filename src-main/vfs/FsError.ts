import type { FsErrorKind } from '../../src-shared/errors.ts';

/** The one error type guests throw; hosts map `kind` to their wire code. */
export class FsError extends Error {
  override readonly name = 'FsError';
  constructor(
    readonly kind: FsErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Coerces anything thrown inside a guest into an FsError (unknown failures are IO). */
export function toFsError(err: unknown): FsError {
  if (err instanceof FsError) return err;
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return new FsError('Timeout', err.message, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new FsError('IO', message, { cause: err });
}
