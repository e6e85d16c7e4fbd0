import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import type { Vfs } from '../../src-main/vfs/types.ts';
import type { TreeReader } from './suite.ts';

// The two adapters every way in reduces to: a vfs called directly, or a folder the OS
// serves (a FUSE mount point, an NFS mount). Kept tiny on purpose.

const call = () => ({ signal: AbortSignal.timeout(30_000) });

/** Reads a tree straight from a guest. */
export function vfsReader(vfs: Vfs): TreeReader {
  return {
    async stat(p) {
      const a = await vfs.getattr(p, call());
      return { type: a.type === 'dir' || a.type === 'symlink' ? a.type : 'file', size: a.size };
    },
    async list(p) {
      const names: string[] = [];
      for await (const e of vfs.readdir(p, call())) names.push(e.name);
      return names;
    },
    async read(p, position, length) {
      const h = await vfs.open(p, {}, call());
      try {
        if (position !== undefined) return Buffer.from(await h.read(position, length ?? 0, call()));
        const parts: Uint8Array[] = [];
        for (let pos = 0; ; ) {
          const b = await h.read(pos, 256 * 1024, call());
          if (b.length === 0) break;
          parts.push(b);
          pos += b.length;
        }
        return Buffer.concat(parts);
      } finally {
        await h.close();
      }
    },
    readlink: (p) => vfs.readlink(p, call()),
  };
}

/** Reads a tree through the OS at a folder (async only: the mount may be served by this process). */
export function pathReader(root: string): TreeReader {
  const at = (p: string): string => join(root, p);
  return {
    async stat(p) {
      const st = await fsp.lstat(at(p));
      return { type: st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file', size: st.size };
    },
    list: (p) => fsp.readdir(at(p)),
    async read(p, position, length) {
      if (position === undefined) return fsp.readFile(at(p));
      const h = await fsp.open(at(p), 'r');
      try {
        const buf = Buffer.alloc(length ?? 0);
        let got = 0;
        while (got < buf.length) {
          const { bytesRead } = await h.read(buf, got, buf.length - got, position + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return buf.subarray(0, got);
      } finally {
        await h.close();
      }
    },
    readlink: (p) => fsp.readlink(at(p)),
  };
}
