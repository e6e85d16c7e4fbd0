/**
 * Thrown by a procedure (or the program wrapper) to refuse a call's credentials: the
 * server answers MSG_DENIED / AUTH_ERROR with this auth_stat (RFC 5531 §9) instead of a
 * procedure result. AUTH_TOOWEAK says "these credentials are not accepted here".
 */
export class RpcAuthError extends Error {
  override readonly name = 'RpcAuthError';
  constructor(
    readonly authStat: number,
    message: string,
  ) {
    super(message);
  }
}
