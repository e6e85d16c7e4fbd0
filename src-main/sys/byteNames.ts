// A file name on Linux is bytes, not text: an old archive's Latin-1 "caf\xe9" is as good a
// name as "café". Berth's paths are JavaScript strings, so a name's bytes are carried in
// them losslessly the way Python does it (PEP 383, "surrogateescape"): the name's UTF-8 as
// itself, and each byte that is not part of valid UTF-8 as one lone low surrogate,
// U+DC80..U+DCFF. UTF-8 cannot spell a lone surrogate, so no valid name ever decodes to one,
// and nameToBytes(nameFromBytes(b)) is b for every b. Names that are UTF-8 (nearly all) take
// Node's own decoder and encoder and are strings exactly as before.
import { isUtf8 } from 'node:buffer';

const ESCAPED = /[\ud800-\udfff]/;

/** The name that `b[start, end)` spells, with each byte that is not UTF-8 kept as U+DC80..U+DCFF. */
export function nameFromBytes(b: Buffer, start = 0, end = b.length): string {
  const s = b.toString('utf8', start, end);
  // A byte that is not UTF-8 decodes to U+FFFD; only then are the bytes looked at.
  if (!s.includes('\ufffd') || isUtf8(b.subarray(start, end))) return s;
  let out = '';
  let run = start;
  let at = start;
  while (at < end) {
    const n = utf8Length(b, at, end);
    if (n > 0) {
      at += n;
      continue;
    }
    if (run < at) out += b.toString('utf8', run, at);
    out += String.fromCharCode(0xdc00 + b[at]!);
    run = ++at;
  }
  return run < end ? out + b.toString('utf8', run, end) : out;
}

/** Whether `name` carries bytes that are not UTF-8 (or is no name at all: a lone surrogate of another kind). */
export function hasRawBytes(name: string): boolean {
  return ESCAPED.test(name) && !isWellFormed(name);
}

/** The bytes of a name made by nameFromBytes; a lone surrogate it cannot have made throws RangeError. */
export function nameToBytes(name: string): Buffer {
  if (!hasRawBytes(name)) return Buffer.from(name, 'utf8');
  const out = Buffer.allocUnsafe(Buffer.byteLength(name, 'utf8'));
  let len = 0;
  let run = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff) {
      const next = name.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (c < 0xdc80 || c > 0xdcff) throw new RangeError(`a name with a lone surrogate U+${c.toString(16).toUpperCase()} that no file name's bytes make`);
    len += out.write(name.slice(run, i), len, 'utf8');
    out[len++] = c - 0xdc00;
    run = i + 1;
  }
  len += out.write(name.slice(run), len, 'utf8');
  return out.subarray(0, len);
}

/**
 * nameToBytes, or undefined for a string no bytes spell (a lone surrogate outside
 * U+DC80..U+DCFF, which no name read from bytes holds): for writers that must not fail a
 * whole listing or snapshot for one such string.
 */
export function bytesOfName(name: string): Buffer | undefined {
  try {
    return nameToBytes(name);
  } catch {
    return undefined;
  }
}

/**
 * What to hand koffi's `const char *` for `path`: the string itself when it is plain UTF-8
 * (the common case, no copy), else its bytes and a NUL; a path already given as bytes
 * (fsPath's) gets its NUL.
 */
export function osPath(path: string | Buffer): string | Buffer {
  if (typeof path === 'string' && !hasRawBytes(path)) return path;
  const bytes = typeof path === 'string' ? nameToBytes(path) : path;
  const z = Buffer.allocUnsafe(bytes.length + 1);
  bytes.copy(z);
  z[bytes.length] = 0;
  return z;
}

/** Node's fs wants a path Buffer without the NUL that koffi's C strings need. */
export function fsPath(path: string): string | Buffer {
  return hasRawBytes(path) ? nameToBytes(path) : path;
}

/** The length of the valid UTF-8 sequence at b[at] (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF), or 0. */
function utf8Length(b: Buffer, at: number, end: number): number {
  const c = b[at]!;
  if (c < 0x80) return 1;
  const cont = (i: number, lo = 0x80, hi = 0xbf): boolean => at + i < end && b[at + i]! >= lo && b[at + i]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** String.prototype.isWellFormed (Node 20 has it; lib ES2023's types do not). */
function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** `args` with each string that carries raw bytes as osPath gives it (the same array when none does: no copy per call). */
export function osArgs<T>(args: readonly T[]): readonly (T | Buffer)[] {
  let out: (T | Buffer)[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === 'string' && hasRawBytes(a)) (out ??= args.slice())[i] = osPath(a) as Buffer;
  }
  return out ?? args;
}
