/** Thrown when XDR input is truncated or breaks a declared bound (RFC 4506). Callers answer GARBAGE_ARGS. */
export class XdrError extends Error {
  override readonly name = 'XdrError';
}
