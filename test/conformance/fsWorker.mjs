// A child process that runs file operations on a folder for the writable conformance
// suite, as whoever started it (root, or nobody through runuser) and with umask 0, the
// way a user's shell tools would. One JSON request per line on stdin, one JSON answer per
// line on stdout: {id, ok, value} or {id, ok:false, code}. Plain JS so that any user can
// run it with the system node; no import from the project.
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import { createInterface } from 'node:readline';

process.umask(0);
const root = process.argv[2];
/** A path under the root; one whose names are not UTF-8 comes as {bytes} (base64), from processWriter. */
const at = (p) => (typeof p === 'string' ? root + p : Buffer.concat([Buffer.from(root), Buffer.from(p.bytes, 'base64')]));
/** A symlink's target as given: text, or {bytes}. */
const raw = (t) => (typeof t === 'string' ? t : Buffer.from(t.bytes, 'base64'));
const fds = new Map();
/** Unix socket servers bound by bindSocket, listening until the worker ends. */
const servers = [];
let nextFd = 1;

/** Runs a command; its stdout, or its failure with the errno its words name. */
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, out, stderr) => {
      if (!err) return resolve(String(out));
      const text = String(stderr);
      const code = /No space/.test(text) ? 'ENOSPC' : /Operation not permitted/.test(text) ? 'EPERM' : /Permission denied/.test(text) ? 'EACCES' : /No such file/.test(text) ? 'ENOENT' : /File exists/.test(text) ? 'EEXIST' : /No such attribute/.test(text) ? 'ENODATA' : /Operation not supported/.test(text) ? 'ENOTSUP' : 'EIO';
      reject(Object.assign(new Error(text), { code }));
    });
  });
}

/** "@sec.nsec" for touch -d, from [sec, nsec]. */
const stamp = ([sec, nsec]) => `@${sec}.${String(nsec).padStart(9, '0')}`;

const ops = {
  async mkdir(p, mode) { await fsp.mkdir(at(p), mode); },
  async create(p, mode, text) {
    const fh = await fsp.open(at(p), 'wx', mode);
    try { if (text) await fh.writeFile(text); } finally { await fh.close(); }
  },
  async append(p, text) { await fsp.appendFile(at(p), text); },
  async read(p) { return (await fsp.readFile(at(p))).toString('base64'); },
  async stat(p) {
    const s = await fsp.lstat(at(p), { bigint: true });
    const type = s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : s.isFIFO() ? 'fifo' : s.isSocket() ? 'socket' : 'other';
    return { type, mode: Number(s.mode & 0o7777n), uid: Number(s.uid), gid: Number(s.gid), size: Number(s.size), blocks: Number(s.blocks), nlink: Number(s.nlink), atimeNs: String(s.atimeNs), mtimeNs: String(s.mtimeNs) };
  },
  async chmod(p, mode) { await fsp.chmod(at(p), mode); },
  async chown(p, uid, gid) { await fsp.lchown(at(p), uid, gid); },
  async truncate(p, size) { await fsp.truncate(at(p), size); },
  // atime/mtime: [sec, nsec], "now" or "omit" (utimensat's UTIME_NOW / UTIME_OMIT) through touch.
  async utimes(p, atime, mtime) {
    // Both explicit: one utimensat call (touch cannot set two different times at once).
    if (Array.isArray(atime) && Array.isArray(mtime)) return fsp.lutimes(at(p), atime[0] + atime[1] / 1e9, mtime[0] + mtime[1] / 1e9);
    const steps = [];
    if (atime === 'now' && mtime === 'now') steps.push([]);
    else {
      if (atime !== 'omit') steps.push(atime === 'now' ? ['-a'] : ['-a', '-d', stamp(atime)]);
      if (mtime !== 'omit') steps.push(mtime === 'now' ? ['-m'] : ['-m', '-d', stamp(mtime)]);
    }
    for (const s of steps) await run('touch', ['-h', '-c', ...s, at(p)]);
  },
  async rename(a, b) { await fsp.rename(at(a), at(b)); },
  async link(a, b) { await fsp.link(at(a), at(b)); },
  async unlink(p) { await fsp.unlink(at(p)); },
  async rmdir(p) { await fsp.rmdir(at(p)); },
  async mkfifo(p, mode) { await run('mkfifo', ['-m', mode.toString(8), at(p)]); },
  // Extended attributes through the attr package's tools (Node has no xattr API).
  async setxattr(p, name, value) { await run('setfattr', ['-n', name, '-v', value, at(p)]); },
  async getxattr(p, name) {
    try {
      return await run('getfattr', ['--absolute-names', '--only-values', '-n', name, at(p)]);
    } catch (err) {
      if (err.code === 'ENODATA') return undefined;
      throw err;
    }
  },
  async listxattr(p) {
    const out = await run('getfattr', ['--absolute-names', '-m', '^user\\.', at(p)]);
    return out.split('\n').filter((l) => l.startsWith('user.')).sort();
  },
  async removexattr(p, name) { await run('setfattr', ['-x', name, at(p)]); },
  // bind(2) makes the node (MKNOD through a mount); a client connects by the name and gets its bytes back.
  async bindSocket(p) {
    const server = net.createServer((s) => s.pipe(s));
    await new Promise((resolve, reject) => server.once('error', reject).listen(at(p), resolve));
    servers.push(server);
    return new Promise((resolve, reject) => {
      let got = '';
      const c = net.connect(at(p), () => c.write('ping')).once('error', reject);
      c.on('data', (d) => {
        got += d;
        if (got.length >= 4) {
          c.end();
          resolve(got);
        }
      });
    });
  },
  async symlink(t, p) { await fsp.symlink(raw(t), at(p)); },
  async readlink(p) { return fsp.readlink(at(p)); },
  /** The target's bytes, base64. */
  async readlinkBytes(p) { return (await fsp.readlink(at(p), 'buffer')).toString('base64'); },
  /** Each name's bytes, base64. */
  async list(p) { return (await fsp.readdir(at(p), 'buffer')).map((b) => b.toString('base64')); },
  async writeBig(p, bytes) { await fsp.writeFile(at(p), Buffer.alloc(bytes, 7)); },
  async fdOpen(p, readOnly) { const fh = await fsp.open(at(p), readOnly ? 'r' : 'r+'); const id = nextFd++; fds.set(id, fh); return id; },
  async fdWrite(id, pos, b64) { await fds.get(id).write(Buffer.from(b64, 'base64'), 0, undefined, pos); },
  async fdRead(id, pos, len) { const b = Buffer.alloc(len); const { bytesRead } = await fds.get(id).read(b, 0, len, pos); return b.subarray(0, bytesRead).toString('base64'); },
  async fdTruncate(id, size) { await fds.get(id).truncate(size); },
  async fdClose(id) { await fds.get(id).close(); fds.delete(id); },
};

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const { id, op, args } = JSON.parse(line);
  Promise.resolve()
    .then(() => ops[op](...args))
    .then(
      (value) => process.stdout.write(`${JSON.stringify({ id, ok: true, value })}\n`),
      (err) => process.stdout.write(`${JSON.stringify({ id, ok: false, code: err.code ?? 'EIO', message: String(err.message) })}\n`),
    );
});
rl.on('close', () => process.exit(0));
